package load

import (
	"time"

	"golang.org/x/sys/unix"
)

// preciseThread sets the calling thread's timer slack to 1 ns and returns
// a function restoring it.
func preciseThread() func() {
	old, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		return func() {}
	}
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0); err != nil {
		return func() {}
	}
	return func() { _ = unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(old), 0, 0, 0) }
}

// fineSleep sleeps d in one nanosleep call: about 10-20 µs late with the
// slack above, against up to 1 ms for a Go timer.
func fineSleep(d time.Duration) {
	ts := unix.NsecToTimespec(int64(d))
	_ = unix.Nanosleep(&ts, nil)
}
