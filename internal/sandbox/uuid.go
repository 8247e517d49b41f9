package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// uuidGen makes UUIDv7 ids (RFC 9562) that increase strictly in the order
// they are made, even within one millisecond and even when the injected
// clock stands still or goes back: the 12-bit rand_a field is a counter
// (RFC 9562 §6.2, method 1). Listing "ordered by id" is then creation order
// for every resource the server made itself.
type uuidGen struct {
	mu     sync.Mutex
	lastMS int64
	seq    uint16
}

func (g *uuidGen) next(now time.Time) string {
	ms := now.UnixMilli()
	g.mu.Lock()
	if ms <= g.lastMS {
		ms = g.lastMS
		g.seq++
		if g.seq > 0xfff {
			ms++
			g.seq = 0
		}
	} else {
		g.seq = 0
	}
	g.lastMS = ms
	seq := g.seq
	g.mu.Unlock()

	var u [16]byte
	_, _ = rand.Read(u[8:]) // crypto/rand.Read never fails (Go 1.24+)
	u[0], u[1], u[2], u[3], u[4], u[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	u[6] = 0x70 | byte(seq>>8)
	u[7] = byte(seq)
	u[8] = 0x80 | u[8]&0x3f
	var out [36]byte
	hex.Encode(out[0:8], u[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], u[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], u[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], u[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], u[10:16])
	return string(out[:])
}
