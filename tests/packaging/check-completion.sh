#!/usr/bin/env bash
# The bash completion of vdisk-virsh offers exactly the commands of
# `vdisk-virsh --help`, and for each command every option its `-h` synopsis
# names.  Runs the completion function as bash would, with bash-completion's
# own helpers loaded.
#
#   check-completion.sh VDISK_VIRSH COMPLETION_SCRIPT
set -uo pipefail

virsh=${1:?usage: check-completion.sh VDISK_VIRSH COMPLETION_SCRIPT}
script=${2:?usage: check-completion.sh VDISK_VIRSH COMPLETION_SCRIPT}
helpers=/usr/share/bash-completion/bash_completion
if [ ! -r "$helpers" ]; then
    echo "check-completion: $helpers missing (package bash-completion): skipped"
    exit 77
fi
# shellcheck disable=SC1090
. "$helpers"
# shellcheck disable=SC1090
. "$script"

# complete LINE: what completing the last word of LINE offers, one per line
complete_line() {
    COMP_LINE=$1
    COMP_POINT=${#COMP_LINE}
    read -r -a COMP_WORDS <<<"$COMP_LINE"
    [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=("")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMPREPLY=()
    _vdisk_virsh vdisk-virsh "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf '%s\n' "${COMPREPLY[@]}" | sort -u
}

status=0
commands=$("$virsh" --help | awk '/^Commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 } f && /^$/ { exit }' | sort -u)
offered=$(complete_line "vdisk-virsh " | grep -v '^$')
if [ "$commands" != "$offered" ]; then
    echo "check-completion: commands differ (< --help, > completion):"
    diff <(echo "$commands") <(echo "$offered") | grep '^[<>]'
    status=1
fi

n=0
for c in $commands; do
    # the options the synopsis names (the usage lines, up to the first blank)
    want=$("$virsh" "$c" -h 2>&1 | sed -n '1,/^$/p' |
           grep -oE '(^|[ [(|])--?[A-Za-z][-A-Za-z]*' | sed 's/^[ [(|]//' | sort -u)
    got=$(complete_line "vdisk-virsh $c -")
    missing=$(comm -23 <(echo "$want") <(echo "$got") | grep -v '^$')
    if [ -n "$missing" ]; then
        echo "check-completion: $c: options not completed:" $missing
        status=1
    fi
    n=$((n + 1))
done
[ $status -eq 0 ] && echo "check-completion: $n commands and their options completed"
exit $status
