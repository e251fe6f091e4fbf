# fish completion for kpipe's programs, built from "PROG --list-options"
# ("SHORT LONG ARG COMPLETE" per option, "-" for none) so the option table
# in cmd/PROG.c stays the single source. Install as
# ~/.config/fish/completions/{kbroker,kcontroller,kproduce,kconsume}.fish (or source it).

function __kpipe_register --argument-names prog
    command -q $prog; or return
    for line in ($prog --list-options 2>/dev/null)
        set -l f (string split -m 3 ' ' -- $line)
        set -l args -c $prog
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

for __kpipe_prog in kbroker kcontroller kproduce kconsume
    __kpipe_register $__kpipe_prog
end
set -e __kpipe_prog
