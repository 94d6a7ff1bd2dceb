package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Containers run with a fixed data directory: btcd needs explicit paths (a
// FROM scratch image has no home directory).
const btcdContainerDataDir = "/data"

// Container is a node in a Docker container, made by [RunBtcd] or
// [RunBitcoind]. It implements [Node].
//
// It embeds testcontainers.Container for the container API (MappedPort,
// Inspect, ContainerIP, Exec, ...), but its Logs and Stop are the [Node]
// ones, which shadow the embedded methods: Logs returns text and Stop stops
// and removes the container. Use c.Container for the embedded ones (e.g.
// testcontainers.CleanupContainer(t, c.Container)).
type Container struct {
	testcontainers.Container
	rpcNode

	stopOnce sync.Once
	stopErr  error
}

var _ Node = (*Container)(nil)

// RunBtcd starts a btcd regtest node in a container from img and waits for
// it to log "Server listening on". An empty img is the default image,
// btc-handshake/btcd:<version>, which RunBtcd builds on first use (about
// 30 s) FROM scratch around a static btcd compiled from the btcd Go module,
// so nothing is pulled (it needs the go command). The waits end with ctx
// (at the latest after 60 s when ctx has no deadline).
//
// opts are this package's [Option]s and any testcontainers customizer:
// network.WithNetwork(aliases, nw) to put the node on a Docker network
// where other containers reach it as alias:18444,
// testcontainers.WithLogConsumers, testcontainers.WithLabels, ...
//
// Like testcontainers modules, RunBtcd returns the container even with an
// error whenever one was created, so the caller can always Stop it.
func RunBtcd(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	s, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	if img == "" {
		if img, err = buildBtcdImage(ctx); err != nil {
			return nil, fmt.Errorf("run btcd container: %w", err)
		}
	}
	cmd := btcdArgs(s, "0.0.0.0:"+regtestP2PPort, "0.0.0.0:"+btcdRPCPort, btcdContainerDataDir,
		func(p ...string) string { return strings.Join(p, "/") })
	ready := wait.ForAll(
		wait.ForLog(btcdRPCReadyLog).WithPollInterval(50*time.Millisecond),
		wait.ForLog(btcdReadyLog).WithPollInterval(50*time.Millisecond),
	)
	c, rpcAddr, err := runNode(ctx, img, implBtcd, s, cmd, btcdRPCPort, ready, opts)
	if err != nil {
		return c, fmt.Errorf("run btcd container from %s: %w", img, err)
	}
	cert, err := readContainerFile(ctx, c.Container, btcdContainerDataDir+"/rpc.cert")
	if err != nil {
		return c, fmt.Errorf("btcd container: read RPC certificate: %w", err)
	}
	c.rpc, err = newRPCClient(rpcConfig{
		URL: "https://" + rpcAddr + "/", User: s.rpcUser, Password: s.rpcPass, CertPEM: cert,
	})
	if err != nil {
		return c, fmt.Errorf("btcd container: %w", err)
	}
	return c, nil
}

// RunBitcoind starts a Bitcoin Core regtest node in a container from img and
// waits for it to log "init message: Done loading". No Bitcoin Core image is
// built here: img is one the user supplies, and an empty img is the one
// named by $BTC_HANDSHAKE_BITCOIND_IMAGE (an error when unset). The image's
// entrypoint must run bitcoind with the container's command as its
// arguments, as the common bitcoind images (e.g. bitcoin/bitcoin:29) do;
// otherwise add testcontainers.WithEntrypoint("bitcoind").
//
// bitcoind runs with -v2transport=0 unless WithV2Transport(true) is given.
// Options, the wait, and the container returned with an error are as for
// [RunBtcd].
func RunBitcoind(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	s, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	if img, err = bitcoindImage(img); err != nil {
		return nil, fmt.Errorf("run bitcoind container: %w", err)
	}
	cmd := bitcoindArgs(s, "0.0.0.0:"+regtestP2PPort, "0.0.0.0:"+bitcoindRPCPort, "0.0.0.0/0", "")
	ready := wait.ForLog(bitcoindReadyLog).WithPollInterval(50 * time.Millisecond)
	c, rpcAddr, err := runNode(ctx, img, implBitcoind, s, cmd, bitcoindRPCPort, ready, opts)
	if err != nil {
		return c, fmt.Errorf("run bitcoind container from %s: %w", img, err)
	}
	c.rpc, err = newRPCClient(rpcConfig{URL: "http://" + rpcAddr + "/", User: s.rpcUser, Password: s.rpcPass})
	if err != nil {
		return c, fmt.Errorf("bitcoind container: %w", err)
	}
	return c, nil
}

// runNode runs a node container, finds where its P2P and RPC ports are
// reachable, and returns it with the RPC address. The container is
// returned whenever one was created.
func runNode(ctx context.Context, img, impl string, s settings, cmd []string, rpcPort string,
	ready wait.Strategy, opts []testcontainers.ContainerCustomizer,
) (*Container, string, error) {
	prepareTestcontainers()
	l := labels(testcontainers.SessionID())
	l[labelImpl] = impl
	moduleOpts := []testcontainers.ContainerCustomizer{
		testcontainers.WithCmd(cmd...),
		testcontainers.WithExposedPorts(regtestP2PPort+"/tcp", rpcPort+"/tcp"),
		testcontainers.WithLabels(l),
		testcontainers.WithWaitStrategyAndDeadline(startupTimeout(ctx), ready),
	}
	// The caller's customizers come last so that they can override ours,
	// but the log copy adds to the caller's consumers.
	moduleOpts = append(moduleOpts, opts...)
	if s.logOutput != nil {
		moduleOpts = append(moduleOpts, withLogCopy(s.logOutput))
	}
	ctr, err := testcontainers.Run(ctx, img, moduleOpts...)
	if ctr == nil {
		if derr := dockerAvailable(ctx); derr != nil {
			err = derr
		}
		return nil, "", err
	}
	c := &Container{Container: ctr, rpcNode: rpcNode{impl: impl}}
	if err != nil {
		return c, "", err
	}
	host, err := reachableHost(ctx, ctr, rpcPort)
	if err != nil {
		return c, "", err
	}
	if c.p2pAddr, err = mappedAddr(ctx, ctr, host, regtestP2PPort); err != nil {
		return c, "", fmt.Errorf("P2P port: %w", err)
	}
	rpcAddr, err := mappedAddr(ctx, ctr, host, rpcPort)
	if err != nil {
		return c, "", fmt.Errorf("RPC port: %w", err)
	}
	return c, rpcAddr, nil
}

// withLogCopy adds a log consumer that copies the container's output to w.
func withLogCopy(w io.Writer) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		if req.LogConsumerCfg == nil {
			req.LogConsumerCfg = &testcontainers.LogConsumerConfig{}
		}
		req.LogConsumerCfg.Consumers = append(req.LogConsumerCfg.Consumers, logCopy{w})
		return nil
	}
}

// logCopy is a testcontainers.LogConsumer writing to an io.Writer.
type logCopy struct{ w io.Writer }

func (l logCopy) Accept(log testcontainers.Log) { _, _ = l.w.Write(log.Content) }

// reachableHost finds the host on which this process reaches the
// container's mapped ports. testcontainers' guess (the Docker host, or when
// this process itself runs in a container, a gateway address) is right in
// most setups, but not when this process runs in a container that shares
// the Docker engine's network namespace: the ports are then on loopback
// and the guessed gateway refuses them. So the guess is checked by
// connecting to the mapped port (RPC's: a bare connection is harmless
// there), and loopback is tried next. TESTCONTAINERS_HOST_OVERRIDE, when
// set, is taken as is.
func reachableHost(ctx context.Context, ctr testcontainers.Container, port string) (string, error) {
	host, err := ctr.Host(ctx)
	if err != nil {
		return "", fmt.Errorf("docker host: %w", err)
	}
	if _, set := os.LookupEnv("TESTCONTAINERS_HOST_OVERRIDE"); set {
		return host, nil
	}
	mapped, err := ctr.MappedPort(ctx, port+"/tcp")
	if err != nil {
		return "", fmt.Errorf("mapped port of %s: %w", port, err)
	}
	var errs []error
	for _, candidate := range []string{host, "127.0.0.1"} {
		dialCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		var d net.Dialer
		conn, err := d.DialContext(dialCtx, "tcp", net.JoinHostPort(candidate, mapped.Port()))
		cancel()
		if err == nil {
			_ = conn.Close()
			return candidate, nil
		}
		errs = append(errs, err)
	}
	return "", fmt.Errorf("mapped port %s of the container is reachable neither at %s nor on loopback "+
		"(set TESTCONTAINERS_HOST_OVERRIDE to the right host): %w", mapped.Port(), host, errors.Join(errs...))
}

func mappedAddr(ctx context.Context, ctr testcontainers.Container, host, port string) (string, error) {
	mapped, err := ctr.MappedPort(ctx, port+"/tcp")
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(host, mapped.Port()), nil
}

func readContainerFile(ctx context.Context, ctr testcontainers.Container, path string) ([]byte, error) {
	rc, err := ctr.CopyFileFromContainer(ctx, path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// P2PAddr implements [Node]: the host:port the container's P2P port is
// mapped to on the Docker host. Other containers on a Docker network the
// node joined reach it at its alias and port 18444 instead.
func (c *Container) P2PAddr() string { return c.p2pAddr }

// Logs implements [Node]: the container's output so far.
func (c *Container) Logs(ctx context.Context) (string, error) {
	rc, err := c.Container.Logs(ctx)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return string(b), err
}

// Stop implements [Node]: it stops and removes the container. It is safe on
// a nil *Container and when called more than once.
func (c *Container) Stop(ctx context.Context) error {
	if c == nil {
		return nil
	}
	c.stopOnce.Do(func() {
		c.closeRPC()
		c.stopErr = testcontainers.TerminateContainer(c.Container, testcontainers.StopContext(ctx))
	})
	return c.stopErr
}

// errNoGateway is returned by HostIP when the container is on no network
// with an IPv4 gateway (host networking, say).
var errNoGateway = errors.New("container has no network gateway")

// HostIP is the address at which the node in the container reaches the
// Docker host: the gateway of its first network by name (172.17.0.1 on
// Docker's default bridge). A test that wants the node to connect out to a
// mock peer makes the mock listen there (mockpeer.WithListenAddr(ip+":0"))
// and gives the node that address (AddNode). It works when the test process
// runs on the Docker host, as in CI; not with a remote DOCKER_HOST.
func (c *Container) HostIP(ctx context.Context) (string, error) {
	info, err := c.Inspect(ctx)
	if err != nil {
		return "", fmt.Errorf("inspect container: %w", err)
	}
	if info.NetworkSettings == nil {
		return "", errNoGateway
	}
	names := make([]string, 0, len(info.NetworkSettings.Networks))
	for name := range info.NetworkSettings.Networks {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		ep := info.NetworkSettings.Networks[name]
		if ep != nil && ep.Gateway.IsValid() && ep.Gateway.Is4() {
			return ep.Gateway.String(), nil
		}
	}
	return "", errNoGateway
}
