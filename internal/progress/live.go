package progress

import (
	"io"
	"os"

	"golang.org/x/term"
)

// Live draws Status lines in place on a terminal: each update clears the
// line and redraws it, the final one ends it with a newline. The width is
// asked for at every draw, so a resized terminal is followed.
type Live struct {
	W io.Writer
	// Width returns the terminal's columns; nil or 0 means 80.
	Width func() int

	ended bool
}

// Draw shows s. After a final line, further lines are ignored: the line
// is not printed twice.
func (l *Live) Draw(s Status) {
	if l.ended {
		return
	}
	w := 0
	if l.Width != nil {
		w = l.Width()
	}
	end := ""
	if s.Final {
		end, l.ended = "\n", true
	}
	io.WriteString(l.W, "\r\x1b[2K"+Line(s, w)+end)
}

// TerminalWidth returns a function reporting w's columns when w is a
// terminal, 0 otherwise.
func TerminalWidth(w io.Writer) func() int {
	f, ok := w.(*os.File)
	if !ok {
		return func() int { return 0 }
	}
	return func() int {
		cols, _, err := term.GetSize(int(f.Fd()))
		if err != nil {
			return 0
		}
		return cols
	}
}
