# fish completion for kpipe's programs, built from "PROG --list-options"
# ("SHORT LONG ARG COMPLETE" per option, "-" for none) so the option table
# in cmd/PROG.c stays the single source; a program with verbs lists them
# with "PROG --list-verbs" and each verb's options with "PROG VERB
# --list-options". Install as ~/.config/fish/completions/PROG.fish for each of
# kbroker, kcontroller, kproduce, kconsume, ktopics and kgroups (or source it).

function __kpipe_register --argument-names prog
    command -q $prog; or return
    set -l verbs ($prog --list-verbs 2>/dev/null)
    if test (count $verbs) -gt 0
        complete -c $prog -n __fish_use_subcommand -f -a "$verbs"
        for verb in $verbs
            __kpipe_register_options $prog $verb
        end
    else
        __kpipe_register_options $prog
    end
end

function __kpipe_register_options --argument-names prog verb
    for line in ($prog $verb --list-options 2>/dev/null)
        set -l f (string split -m 3 ' ' -- $line)
        set -l args -c $prog
        test -n "$verb"; and set -a args -n "__fish_seen_subcommand_from $verb"
        test $f[1] != -; and set -a args -s (string sub -s 2 -- $f[1])
        test $f[2] != -; and set -a args -l (string sub -s 3 -- $f[2])
        if test $f[3] != -
            set -a args -r -d $f[3]
            switch $f[4]
                case -
                    set -a args -x
                case file
                    set -a args -F
                case dir
                    set -a args -x -a '(__fish_complete_directories)'
                case '*'
                    set -a args -x -a $f[4]
            end
        end
        complete $args
    end
end

for __kpipe_prog in kbroker kcontroller kproduce kconsume ktopics kgroups
    __kpipe_register $__kpipe_prog
end
set -e __kpipe_prog
