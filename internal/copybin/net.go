package copybin

import (
	"bytes"
	"errors"
	"strconv"
)

var errInet = errors.New("not a canonical inet or cidr")

// Address families as inet_send writes them.
const (
	pgsqlAFInet  = 2
	pgsqlAFInet6 = 3
)

// appendInet: network_out writes the address as pg_inet_net_ntop does (all
// four octets of IPv4; IPv6 in the BIND form, see appendIPv6Text) and then
// "/bits" unless the bits are the whole address, which cidr always writes.
// inet_send writes the family, bits, is_cidr, the address length and the
// address. A cidr's bits past the mask are zero (cidr_in refuses others).
// The text is parsed, printed back the way network_out prints and compared,
// so only the canonical spelling is taken.
func appendInet(dst, v []byte, cidr bool) ([]byte, error) {
	addrText, bitsText := v, []byte(nil)
	if i := bytes.IndexByte(v, '/'); i >= 0 {
		addrText, bitsText = v[:i], v[i+1:]
	}
	var (
		addr  [16]byte
		size  int
		canon [64]byte
		out   []byte
	)
	if bytes.IndexByte(addrText, ':') >= 0 {
		words, ok := parseIPv6(addrText)
		if !ok {
			return dst, errInet
		}
		for i, w := range words {
			addr[2*i], addr[2*i+1] = byte(w>>8), byte(w)
		}
		size = 16
		out = appendIPv6Text(canon[:0], words)
	} else {
		quad, ok := parseQuad(addrText)
		if !ok {
			return dst, errInet
		}
		copy(addr[:], quad[:])
		size = 4
		out = appendIPv4Text(canon[:0], addr[:4])
	}
	maxBits := uint64(size * 8)
	bits := maxBits
	if bitsText != nil {
		var ok bool
		if bits, ok = parseUint(bitsText, maxBits); !ok {
			return dst, errInet
		}
	}
	if cidr || bits != maxBits {
		out = strconv.AppendUint(append(out, '/'), bits, 10)
	}
	if !bytes.Equal(out, v) {
		return dst, errInet
	}
	if cidr {
		for i := int(bits); i < size*8; i++ {
			if addr[i/8]&(0x80>>(i%8)) != 0 {
				return dst, errInet
			}
		}
	}
	family, isCIDR := byte(pgsqlAFInet), byte(0)
	if size == 16 {
		family = pgsqlAFInet6
	}
	if cidr {
		isCIDR = 1
	}
	dst = append(dst, family, byte(bits), isCIDR, byte(size))
	return append(dst, addr[:size]...), nil
}

// parseQuad parses a dotted quad a.b.c.d of canonical decimal octets.
func parseQuad(v []byte) (q [4]byte, ok bool) {
	for i := range 4 {
		end := bytes.IndexByte(v, '.')
		if i == 3 {
			end = len(v)
		} else if end < 0 {
			return q, false
		}
		octet, ok := parseUint(v[:end], 255)
		if !ok {
			return q, false
		}
		q[i] = byte(octet)
		v = v[min(end+1, len(v)):]
	}
	return q, true
}

func appendIPv4Text(dst, a []byte) []byte {
	for i, b := range a {
		if i > 0 {
			dst = append(dst, '.')
		}
		dst = strconv.AppendUint(dst, uint64(b), 10)
	}
	return dst
}

// appendIPv6Text prints an IPv6 address as PostgreSQL's inet_net_ntop
// (from BIND) does: lower-case hex words without leading zeros, the first
// longest run of two or more zero words as "::", and the last 32 bits as a
// dotted quad when the address is ::a.b.c.d (exactly the first six words
// zero) or ::ffff:a.b.c.d.
func appendIPv6Text(dst []byte, w [8]uint16) []byte {
	bestBase, bestLen := -1, 0
	for i := 0; i < 8; {
		if w[i] != 0 {
			i++
			continue
		}
		j := i
		for j < 8 && w[j] == 0 {
			j++
		}
		if j-i > bestLen {
			bestBase, bestLen = i, j-i
		}
		i = j
	}
	if bestLen < 2 {
		bestBase = -1
	}
	for i := 0; i < 8; i++ {
		if bestBase >= 0 && i >= bestBase && i < bestBase+bestLen {
			if i == bestBase {
				dst = append(dst, ':')
			}
			continue
		}
		if i != 0 {
			dst = append(dst, ':')
		}
		if i == 6 && bestBase == 0 && (bestLen == 6 || (bestLen == 5 && w[5] == 0xffff)) {
			return appendIPv4Text(dst, []byte{byte(w[6] >> 8), byte(w[6]), byte(w[7] >> 8), byte(w[7])})
		}
		dst = strconv.AppendUint(dst, uint64(w[i]), 16)
	}
	if bestBase >= 0 && bestBase+bestLen == 8 {
		dst = append(dst, ':')
	}
	return dst
}

// parseIPv6 parses the textual IPv6 forms (hex words of 1 to 4 digits,
// one "::", a dotted quad as the last 32 bits). Spellings other than the
// canonical one are caught afterwards by comparing with appendIPv6Text.
func parseIPv6(v []byte) ([8]uint16, bool) {
	var head, tail [8]uint16
	nh, nt, gap := 0, 0, false
	if bytes.HasPrefix(v, []byte("::")) {
		gap, v = true, v[2:]
	}
	for len(v) > 0 {
		if nh+nt >= 8 {
			return head, false
		}
		end := bytes.IndexByte(v, ':')
		if end < 0 {
			end = len(v)
		}
		piece := v[:end]
		var words []uint16
		var pair [2]uint16
		if bytes.IndexByte(piece, '.') >= 0 {
			if end != len(v) || nh+nt > 6 {
				return head, false
			}
			quad, ok := parseQuad(piece)
			if !ok {
				return head, false
			}
			pair = [2]uint16{uint16(quad[0])<<8 | uint16(quad[1]), uint16(quad[2])<<8 | uint16(quad[3])}
			words = pair[:]
		} else {
			if len(piece) == 0 || len(piece) > 4 {
				return head, false
			}
			var n uint16
			for _, b := range piece {
				d := lowerHex(b)
				if d < 0 {
					return head, false
				}
				n = n<<4 | uint16(d)
			}
			pair[0] = n
			words = pair[:1]
		}
		for _, w := range words {
			if gap {
				tail[nt] = w
				nt++
			} else {
				head[nh] = w
				nh++
			}
		}
		v = v[end:]
		switch {
		case bytes.HasPrefix(v, []byte("::")):
			if gap {
				return head, false
			}
			gap, v = true, v[2:]
		case len(v) > 0:
			v = v[1:]
			if len(v) == 0 {
				return head, false
			}
		}
	}
	if nh+nt > 8 || (gap && nh+nt == 8) || (!gap && nh != 8) {
		return head, false
	}
	copy(head[8-nt:], tail[:nt])
	return head, true
}
