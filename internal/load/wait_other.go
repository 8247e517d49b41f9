//go:build !linux

package load

import "time"

func preciseThread() func() { return func() {} }

// fineSleep falls back to time.Sleep where no precise sleep is wired.
func fineSleep(d time.Duration) { time.Sleep(d) }
