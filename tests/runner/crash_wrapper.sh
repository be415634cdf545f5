#!/bin/sh
# crash_wrapper.sh VTXSIM-ARGS...: stands in for vtxsim in tests/runner/run.sh
# (`vtxsim test --vtxsim crash_wrapper.sh`). When an argument contains the
# marker "crash-me" it dies of SIGSEGV, as a crashing vtxsim would; otherwise
# it runs the real vtxsim, $VTXSIM_REAL, with the same arguments.
for arg in "$@"; do
	case $arg in
	*crash-me*)
		ulimit -c 0
		kill -SEGV $$
		exit 99 ;;
	esac
done
exec "${VTXSIM_REAL:?crash_wrapper.sh: set VTXSIM_REAL to the vtxsim to run}" "$@"
