package cassette

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
)

// WriteTranscript writes c as text a person reads: a line for the header,
// then per connection a line naming the parties and, per message, one line
// with its time, direction, command, size and key fields; closes and the
// end have lines of their own. Text from the recording (commands, user
// agents, endpoints) is quoted or escaped: control bytes never reach the
// terminal.
func WriteTranscript(w io.Writer, c *Cassette) error {
	bw := bufio.NewWriter(w)
	h := c.Header
	red := "not redacted"
	if h.Redacted {
		red = "redacted"
	}
	fmt.Fprintf(bw, "cassette format %d, %s, source %s", h.Format, Text(h.Network), Text(h.Source))
	if h.Origin != "" {
		fmt.Fprintf(bw, " (%s)", Text(h.Origin))
	}
	fmt.Fprintf(bw, ", %s, %d connections\n", red, len(c.Conns))
	for _, cn := range c.Conns {
		fmt.Fprintf(bw, "\nconn %d  %s  client %s → node %s  started %s\n", cn.ID, orDash(cn.Transport),
			orDash(Text(cn.Client)), orDash(Text(cn.Node)), cn.Start.Format("2006-01-02T15:04:05.000000Z"))
		if cn.V2 != nil {
			fmt.Fprintf(bw, "  %s\n", v2Summary(cn.V2, false))
		}
		for _, e := range cn.Events {
			arrow := "C → N"
			if e.From == Node {
				arrow = "C ← N"
			}
			if e.Close != "" {
				fmt.Fprintf(bw, "  %s  %s  %s closed (%s)\n", ms(e.At), arrow, e.From, Text(e.Close))
				continue
			}
			if len(e.Msgs) == 0 {
				fmt.Fprintf(bw, "  %s  %s  (%d bytes, no whole message yet)\n", ms(e.At), arrow, len(e.Bytes))
			}
			for _, m := range e.Msgs {
				line := messageLine(m)
				if m.V2 != "" && cn.V2 != nil {
					line = fmt.Sprintf("%-12s %7d B  (v2 bytes: the client's decrypted messages are listed apart)", "v2-"+Text(m.V2), m.Len)
				}
				fmt.Fprintf(bw, "  %s  %s  %s\n", ms(e.At), arrow, line)
			}
		}
		end := cn.End
		by := ""
		if end.By != "" {
			by = " by " + end.By
		}
		fmt.Fprintf(bw, "  ended: %s%s at %s\n", Text(end.How), by, strings.TrimSpace(ms(end.At)))
	}
	return bw.Flush()
}

// messageLine is a message's command, size and key fields.
func messageLine(m Message) string {
	if m.V2 != "" {
		return fmt.Sprintf("%-12s %7d B  (v2, encrypted: no keys)", "v2-"+Text(m.V2), m.Len)
	}
	cmd := Text(m.Cmd)
	if cmd == "" {
		cmd = "?"
	}
	s := fmt.Sprintf("%-12s %7d B", cmd, m.Len)
	if f := fields(m); f != "" {
		s += "  " + f
	}
	if m.Err != "" {
		s += "  error=" + strconv.Quote(m.Err)
	}
	return s
}

// fields are the key decoded fields of a message, escaped.
func fields(m Message) string {
	switch {
	case m.Version != nil:
		v := m.Version
		return fmt.Sprintf("protocol=%d services=%#x ua=%s height=%d relay=%t nonce=%#x addr_recv=%s",
			v.Protocol, v.Services, strconv.Quote(v.UserAgent), v.StartHeight, v.Relay, v.Nonce, Text(v.AddrRecv))
	case m.Nonce != nil:
		return fmt.Sprintf("nonce=%#x", *m.Nonce)
	}
	return ""
}

// Text escapes s for a terminal or a diagram: printable Unicode stays,
// everything else (control bytes, escape sequences, invalid UTF-8) is
// written as Go escapes, and backslashes are doubled.
func Text(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

func ms(us int64) string { return fmt.Sprintf("%10.3f ms", float64(us)/1000) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// WriteDiagram writes a mermaid sequenceDiagram per connection: the
// client and the node as participants, an arrow per message with its
// time, notes for closes and for how the connection ended. Recorded text
// is escaped for mermaid (its special characters become #code; entities)
// after control bytes are escaped.
func WriteDiagram(w io.Writer, c *Cassette) error {
	bw := bufio.NewWriter(w)
	for i, cn := range c.Conns {
		if i > 0 {
			fmt.Fprintln(bw)
		}
		fmt.Fprintf(bw, "%%%% conn %d (%s)\nsequenceDiagram\n", cn.ID, mermaid(orDash(cn.Transport)))
		fmt.Fprintf(bw, "    participant C as client %s\n", mermaid(cn.Client))
		fmt.Fprintf(bw, "    participant N as node %s\n", mermaid(cn.Node))
		if cn.V2 != nil {
			fmt.Fprintf(bw, "    Note over C,N: %s\n", v2Summary(cn.V2, true))
		}
		for _, e := range cn.Events {
			a, b := "C", "N"
			if e.From == Node {
				a, b = "N", "C"
			}
			t := strings.TrimSpace(ms(e.At))
			if e.Close != "" {
				fmt.Fprintf(bw, "    Note over %s: %s closes (%s) at %s\n", a, e.From, mermaid(e.Close), t)
				continue
			}
			for _, m := range e.Msgs {
				if m.V2 == V2Encrypted && cn.V2 != nil {
					continue // its messages are drawn decrypted
				}
				arrow := "->>"
				if m.Err != "" {
					arrow = "-x"
				}
				fmt.Fprintf(bw, "    %s%s%s: %s at %s\n", a, arrow, b, mermaid(diagramLabel(m)), t)
			}
		}
		end := cn.End
		how := mermaid(end.How)
		if end.By != "" {
			how = end.By + " " + how
		}
		fmt.Fprintf(bw, "    Note over C,N: ended: %s at %s\n", how, strings.TrimSpace(ms(end.At)))
	}
	return bw.Flush()
}

func diagramLabel(m Message) string {
	if m.V2 != "" {
		return fmt.Sprintf("v2 %s (%d B)", m.V2, m.Len)
	}
	s := fmt.Sprintf("%s (%d B)", orDash(m.Cmd), m.Len)
	if v := m.Version; v != nil {
		s += fmt.Sprintf(" %d %s", v.Protocol, v.UserAgent)
	}
	if m.Err != "" {
		s += " error: " + m.Err
	}
	return s
}

// mermaid escapes recorded text for a mermaid label: Go escapes for what
// is not printable, then an entity (#code;) for every character mermaid
// gives a meaning to (";" ends a statement, "#" starts an entity, ":"
// and "," separate, "<>" are HTML, "%" starts a comment, and more).
func mermaid(s string) string {
	s = Text(s)
	var b strings.Builder
	for _, r := range s {
		if r < unicode.MaxASCII && !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune(" ._/()=+*'!?@$^&|~[]\\-", r)) {
			fmt.Fprintf(&b, "#%d;", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
