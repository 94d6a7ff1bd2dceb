package integration

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

var errExited = errors.New("node exited")

var (
	// btcd logs the bound address, so it can listen on port 0 and tell us
	// the port: no window in which another process takes it.
	btcdP2PListening = regexp.MustCompile(regexp.QuoteMeta(btcdReadyLog) + ` (\S+)`)
	btcdRPCListening = regexp.MustCompile(regexp.QuoteMeta(btcdRPCReadyLog) + ` (\S+)`)
	bitcoindReady    = regexp.MustCompile(regexp.QuoteMeta(bitcoindReadyLog))
)

// Process is a node running as a child process on loopback, with its data
// in a temporary directory, made by [StartBtcd] or [StartBitcoind]. It
// implements [Node].
type Process struct {
	rpcNode
	cmd  *exec.Cmd
	logs *logBuffer
	dir  string

	exited  chan struct{} // closed when the process has exited
	waitErr error         // cmd.Wait's result, readable once exited is closed

	stopOnce sync.Once
	stopErr  error
}

var _ Node = (*Process)(nil)

// StartBtcd starts btcd in regtest as a child process listening on
// ephemeral loopback ports, and returns once its RPC and P2P listeners are
// up (it waits for the "Server listening on" log line). bin is the btcd
// executable; when empty it is $BTC_HANDSHAKE_BTCD, else btcd built from its
// Go module (once, cached under the user cache directory; it needs the go
// command). The waits end with ctx (at the latest after 60 s when ctx has no
// deadline). Stop the node when done.
func StartBtcd(ctx context.Context, bin string, opts ...Option) (*Process, error) {
	s, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	exe, err := btcdExecutable(ctx, bin)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "btc-handshake-btcd-")
	if err != nil {
		return nil, fmt.Errorf("start btcd: %w", err)
	}
	args := btcdArgs(s, "127.0.0.1:0", "127.0.0.1:0", dir, filepath.Join)
	n, err := startProcess(implBtcd, exe, args, dir, s)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Process, error) {
		_ = n.Stop(context.Background())
		return nil, fmt.Errorf("start btcd (%s): %w\n--- btcd log ---\n%s", exe, err, tail(n.logs.String(), 4000))
	}

	waitCtx, cancel := context.WithTimeout(ctx, startupTimeout(ctx))
	defer cancel()
	addrs, err := n.logs.waitMatch(waitCtx, n.exited, btcdRPCListening, btcdP2PListening)
	if err != nil {
		return fail(fmt.Errorf("waiting for %q: %w", btcdReadyLog, n.describe(err)))
	}
	rpcAddr, p2pAddr := addrs[0], addrs[1]
	n.p2pAddr = p2pAddr

	// btcd writes its certificate before its RPC listener starts.
	cert, err := os.ReadFile(filepath.Join(dir, "rpc.cert"))
	if err != nil {
		return fail(err)
	}
	n.rpc, err = newRPCClient(rpcConfig{
		URL: "https://" + rpcAddr + "/", User: s.rpcUser, Password: s.rpcPass, CertPEM: cert,
	})
	if err != nil {
		return fail(err)
	}
	return n, nil
}

// StartBitcoind starts Bitcoin Core's bitcoind in regtest as a child
// process on loopback and returns once it logs "init message: Done
// loading". bin is the bitcoind executable; when empty it is
// $BTC_HANDSHAKE_BITCOIND, else bitcoind from PATH. It runs with
// -v2transport=0 unless WithV2Transport(true) is given. The waits end as for
// [StartBtcd]. Stop the node when done.
func StartBitcoind(ctx context.Context, bin string, opts ...Option) (*Process, error) {
	s, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	exe, err := bitcoindExecutable(bin)
	if err != nil {
		return nil, err
	}
	// bitcoind logs the address it was asked to bind, not the one it got,
	// so ports are picked here. Another process could take one in between;
	// bitcoind then exits with "Unable to bind", reported below.
	p2pPort, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	rpcPort, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "btc-handshake-bitcoind-")
	if err != nil {
		return nil, fmt.Errorf("start bitcoind: %w", err)
	}
	p2pAddr := net.JoinHostPort("127.0.0.1", p2pPort)
	rpcAddr := net.JoinHostPort("127.0.0.1", rpcPort)
	args := bitcoindArgs(s, p2pAddr, rpcAddr, "127.0.0.1", dir)
	n, err := startProcess(implBitcoind, exe, args, dir, s)
	if err != nil {
		return nil, err
	}
	n.p2pAddr = p2pAddr

	waitCtx, cancel := context.WithTimeout(ctx, startupTimeout(ctx))
	defer cancel()
	if _, err := n.logs.waitMatch(waitCtx, n.exited, bitcoindReady); err != nil {
		_ = n.Stop(context.Background())
		return nil, fmt.Errorf("start bitcoind (%s): waiting for %q: %w\n--- bitcoind log ---\n%s",
			exe, bitcoindReadyLog, n.describe(err), tail(n.logs.String(), 4000))
	}
	n.rpc, err = newRPCClient(rpcConfig{URL: "http://" + rpcAddr + "/", User: s.rpcUser, Password: s.rpcPass})
	if err != nil {
		_ = n.Stop(context.Background())
		return nil, err
	}
	return n, nil
}

func startProcess(impl, exe string, args []string, dir string, s settings) (*Process, error) {
	// Not exec.CommandContext: the node outlives the context of its start.
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	logs := newLogBuffer(s.logOutput)
	cmd.Stdout, cmd.Stderr = logs, logs
	// A wrapper script's leftover child can keep the output pipe open after
	// the node has exited; do not let that block Wait (and Stop) forever.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s (%s): %w", impl, exe, err)
	}
	n := &Process{rpcNode: rpcNode{impl: impl}, cmd: cmd, logs: logs, dir: dir, exited: make(chan struct{})}
	go func() {
		n.waitErr = cmd.Wait()
		close(n.exited)
	}()
	return n, nil
}

// describe adds the exit status to errExited.
func (n *Process) describe(err error) error {
	if errors.Is(err, errExited) && n.waitErr != nil {
		return fmt.Errorf("%w (%v)", err, n.waitErr)
	}
	return err
}

// P2PAddr implements [Node]; the address is on 127.0.0.1.
func (n *Process) P2PAddr() string { return n.p2pAddr }

// DataDir is the node's temporary data directory, removed by Stop.
func (n *Process) DataDir() string { return n.dir }

// Logs implements [Node]: the node's stdout and stderr so far.
func (n *Process) Logs(context.Context) (string, error) { return n.logs.String(), nil }

// Exited is closed when the process has exited, for whatever reason.
func (n *Process) Exited() <-chan struct{} { return n.exited }

// Stop implements [Node]: it interrupts the node (SIGINT, a clean shutdown
// for btcd and bitcoind), kills it if it has not exited when ctx ends (or
// after 30 s if ctx has no deadline), and removes its data directory.
func (n *Process) Stop(ctx context.Context) error {
	if n == nil {
		return nil
	}
	n.stopOnce.Do(func() { n.stopErr = n.stop(ctx) })
	return n.stopErr
}

func (n *Process) stop(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	n.closeRPC()
	var errs []error
	select {
	case <-n.exited:
	default:
		if err := n.cmd.Process.Signal(os.Interrupt); err != nil {
			_ = n.cmd.Process.Kill() // no SIGINT on Windows
		}
		select {
		case <-n.exited:
		case <-ctx.Done():
			_ = n.cmd.Process.Kill()
			<-n.exited
			errs = append(errs, fmt.Errorf("stop %s: killed, no clean exit: %w", n.impl, ctx.Err()))
		}
	}
	if err := os.RemoveAll(n.dir); err != nil {
		errs = append(errs, fmt.Errorf("stop %s: %w", n.impl, err))
	}
	return errors.Join(errs...)
}

func freeLoopbackPort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	_, port, err := net.SplitHostPort(l.Addr().String())
	return port, err
}

// tail returns about the last n bytes of s, from a line start.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}
