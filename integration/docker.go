package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"
)

// Labels put on every container this package starts.
const (
	// LabelManaged marks a container (or network) as made by this package;
	// its value is "true".
	LabelManaged = "btc-handshake.managed"
	// LabelRun holds the run id set by [WithRunID].
	LabelRun = "btc-handshake.run"
	// LabelImpl holds the node implementation ([Impl]).
	LabelImpl = "btc-handshake.impl"
)

// BtcdImageRepo is the repository of the image made by [BuildBtcdImage]; the
// tag is the btcd version.
const BtcdImageRepo = "btc-handshake/btcd"

// ErrDockerUnavailable is returned (wrapped, with the reason) by
// [DockerAvailable] when no Docker engine answers.
var ErrDockerUnavailable = errors.New("docker engine unavailable")

// Containers run with a fixed data directory: btcd needs explicit paths (a
// FROM scratch image has no home directory).
const btcdContainerDataDir = "/data"

// prepareTestcontainers disables Ryuk, testcontainers' reaper, unless the
// user decided otherwise: its image would have to be pulled, and these
// containers are removed by Stop and RemoveContainers instead. It must run
// before testcontainers reads its configuration (once, on first use).
func prepareTestcontainers() {
	if _, set := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); !set {
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
}

// Labels returns the labels that mark a container or network as this
// package's, for run id runID (omitted when empty). Give them to networks a
// test creates (testcontainers' network.WithLabels) so that
// [RemoveContainers] sweeps those too.
func Labels(runID string) map[string]string {
	l := map[string]string{LabelManaged: "true"}
	if runID != "" {
		l[LabelRun] = runID
	}
	return l
}

func dockerClient(ctx context.Context) (*testcontainers.DockerClient, error) {
	prepareTestcontainers()
	return testcontainers.NewDockerClientWithOpts(ctx)
}

// DockerAvailable reports whether a Docker engine answers, with the reason
// when it does not (the error wraps [ErrDockerUnavailable]). It honours
// DOCKER_HOST and testcontainers' configuration, and gives up after 10 s.
func DockerAvailable(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	where := "the default Docker socket"
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		where = "DOCKER_HOST=" + h
	}
	cli, err := dockerClient(ctx)
	if err != nil {
		return fmt.Errorf("%w (%s): %v", ErrDockerUnavailable, where, err)
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("%w (%s): %v", ErrDockerUnavailable, where, err)
	}
	return nil
}

// BuildBtcdImage makes the default btcd image, btc-handshake/btcd:<version>,
// unless the Docker engine already has it, and returns its tag. The image is
// FROM scratch around a static btcd built by [BuildBtcd] for the engine's
// architecture, so nothing is pulled. It is built with the classic builder,
// which builds FROM scratch without contacting a registry.
func BuildBtcdImage(ctx context.Context) (string, error) {
	version := btcdModuleVersion(ctx)
	if version == "" {
		version = BtcdVersion
	}
	tag := BtcdImageRepo + ":" + sanitize(version)

	cli, err := dockerClient(ctx)
	if err != nil {
		return "", fmt.Errorf("build btcd image: %w", err)
	}
	defer cli.Close()
	if _, err := cli.ImageInspect(ctx, tag); err == nil {
		return tag, nil
	}
	arch := runtime.GOARCH
	if v, err := cli.ServerVersion(ctx, client.ServerVersionOptions{}); err == nil && v.Arch != "" {
		arch = v.Arch
	}
	bin, err := BuildBtcd(ctx, "linux", arch)
	if err != nil {
		return "", fmt.Errorf("build btcd image: %w", err)
	}

	buildDir, err := os.MkdirTemp("", "btc-handshake-btcd-image-")
	if err != nil {
		return "", fmt.Errorf("build btcd image: %w", err)
	}
	defer os.RemoveAll(buildDir)
	if err := copyFile(bin, filepath.Join(buildDir, "btcd"), 0o755); err != nil {
		return "", fmt.Errorf("build btcd image: %w", err)
	}
	dockerfile := "FROM scratch\n" +
		"COPY btcd /btcd\n" +
		"EXPOSE " + RegtestP2PPort + " " + BtcdRPCPort + "\n" +
		`ENTRYPOINT ["/btcd"]` + "\n"
	if err := os.WriteFile(filepath.Join(buildDir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return "", fmt.Errorf("build btcd image: %w", err)
	}

	provider, err := testcontainers.NewDockerProvider()
	if err != nil {
		return "", fmt.Errorf("build btcd image: %w", err)
	}
	defer provider.Close()
	repo, imageTag, _ := strings.Cut(tag, ":")
	var buildLog strings.Builder
	_, err = provider.BuildImage(ctx, &testcontainers.ContainerRequest{
		FromDockerfile: testcontainers.FromDockerfile{
			Context:        buildDir,
			Dockerfile:     "Dockerfile",
			Repo:           repo,
			Tag:            imageTag,
			KeepImage:      true,
			BuildLogWriter: &buildLog,
			BuildOptionsModifier: func(o *client.ImageBuildOptions) {
				o.Version = build.BuilderV1
				o.Labels = map[string]string{LabelImpl: string(ImplBtcd), "btc-handshake.btcd-version": version}
			},
		},
	})
	if err != nil {
		return "", fmt.Errorf("build btcd image %s: %w\n%s", tag, err, buildLog.String())
	}
	return tag, nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		return err
	}
	return out.Close()
}

// WithNetwork attaches the container to the Docker network named network
// (one the test created, e.g. with testcontainers' network.New) under the
// given aliases, by which other containers on it reach the node, e.g.
// alias:18444 for addnode.
func WithNetwork(network string, aliases ...string) testcontainers.CustomizeRequestOption {
	return tcnetwork.WithNetworkName(aliases, network)
}

// containerNode is what both container types know about their node.
type containerNode struct {
	p2pAddr  string
	rpc      *RPCClient
	stopOnce sync.Once
	stopErr  error
}

func (n *containerNode) logs(ctx context.Context, ctr testcontainers.Container) (string, error) {
	if ctr == nil {
		return "", errors.New("no container")
	}
	rc, err := ctr.Logs(ctx)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return string(b), err
}

func (n *containerNode) stop(ctx context.Context, ctr testcontainers.Container) error {
	n.stopOnce.Do(func() {
		if n.rpc != nil {
			n.rpc.Close()
		}
		n.stopErr = testcontainers.TerminateContainer(ctr, testcontainers.StopContext(ctx))
	})
	return n.stopErr
}

// runNode runs a node container and fills in what node needs from it.
func runNode(ctx context.Context, img string, impl Impl, s settings, cmd []string, ports []string,
	ready wait.Strategy, opts []testcontainers.ContainerCustomizer,
) (testcontainers.Container, error) {
	if s.binary != "" || s.logOutput != nil {
		return nil, errors.New("WithBinary and WithLogOutput are for process launchers; " +
			"for containers use the image and testcontainers.WithLogConsumers")
	}
	prepareTestcontainers()
	runID := s.runID
	if runID == "" {
		runID = testcontainers.SessionID()
	}
	labels := Labels(runID)
	labels[LabelImpl] = string(impl)
	moduleOpts := []testcontainers.ContainerCustomizer{
		testcontainers.WithCmd(cmd...),
		testcontainers.WithExposedPorts(ports...),
		testcontainers.WithLabels(labels),
		testcontainers.WithWaitStrategyAndDeadline(s.startupTimeout, ready),
	}
	// The caller's customizers come last so that they can override ours.
	moduleOpts = append(moduleOpts, opts...)
	ctr, err := testcontainers.Run(ctx, img, moduleOpts...)
	if ctr == nil {
		// Not a typed nil in an interface: callers test the result for nil.
		return nil, err
	}
	return ctr, err
}

// BtcdContainer is a btcd node in a Docker container, made by [Run].
//
// It embeds testcontainers.Container for the container API (MappedPort,
// Inspect, ContainerIPs, Exec, ...), but its Logs and Stop are the [Node]
// ones, which shadow the embedded methods: Logs returns text and Stop stops
// and removes the container. Use c.Container for the embedded ones (e.g.
// testcontainers.CleanupContainer(t, c.Container)).
type BtcdContainer struct {
	testcontainers.Container
	node *containerNode
}

var _ Node = (*BtcdContainer)(nil)

// Run starts a btcd regtest node in a container from img (usually the tag
// returned by [BuildBtcdImage]) and waits for it to log "Server listening
// on". Options are this package's [Option]s (WithRPCAuth, WithExtraArgs,
// WithV2Transport, WithRunID, ...) and any testcontainers customizer
// (WithNetwork, testcontainers.WithLogger, ...).
//
// Like testcontainers modules, Run returns the container even with an
// error whenever one was created, so the caller can always Stop it.
func Run(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*BtcdContainer, error) {
	s, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	cmd, err := btcdArgs(s, "0.0.0.0:"+RegtestP2PPort, "0.0.0.0:"+BtcdRPCPort, btcdContainerDataDir,
		func(p ...string) string { return strings.Join(p, "/") })
	if err != nil {
		return nil, err
	}
	ready := wait.ForAll(
		wait.ForLog(btcdRPCReadyLog).WithPollInterval(50*time.Millisecond),
		wait.ForLog(BtcdReadyLog).WithPollInterval(50*time.Millisecond),
	)
	ctr, err := runNode(ctx, img, ImplBtcd, s, cmd,
		[]string{RegtestP2PPort + "/tcp", BtcdRPCPort + "/tcp"}, ready, opts)
	var c *BtcdContainer
	if ctr != nil {
		c = &BtcdContainer{Container: ctr, node: &containerNode{}}
	}
	if err != nil {
		return c, fmt.Errorf("run btcd container from %s: %w", img, err)
	}

	host, err := reachableHost(ctx, ctr, BtcdRPCPort)
	if err != nil {
		return c, fmt.Errorf("btcd container: %w", err)
	}
	if c.node.p2pAddr, err = mappedAddr(ctx, ctr, host, RegtestP2PPort); err != nil {
		return c, fmt.Errorf("btcd container: P2P port: %w", err)
	}
	rpcAddr, err := mappedAddr(ctx, ctr, host, BtcdRPCPort)
	if err != nil {
		return c, fmt.Errorf("btcd container: RPC port: %w", err)
	}
	cert, err := readContainerFile(ctx, ctr, btcdContainerDataDir+"/rpc.cert")
	if err != nil {
		return c, fmt.Errorf("btcd container: read RPC certificate: %w", err)
	}
	c.node.rpc, err = NewRPCClient(RPCConfig{
		URL: "https://" + rpcAddr + "/", User: s.rpcUser, Password: s.rpcPass, CertPEM: cert,
	})
	if err != nil {
		return c, fmt.Errorf("btcd container: %w", err)
	}
	return c, nil
}

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

// Impl implements [Node].
func (c *BtcdContainer) Impl() Impl { return ImplBtcd }

// P2PAddr implements [Node]: the host:port the container's P2P port is
// mapped to on the Docker host.
func (c *BtcdContainer) P2PAddr() string { return c.node.p2pAddr }

// RPC implements [Node].
func (c *BtcdContainer) RPC() *RPCClient { return c.node.rpc }

// Logs implements [Node]: the container's output so far.
func (c *BtcdContainer) Logs(ctx context.Context) (string, error) {
	return c.node.logs(ctx, c.Container)
}

// Stop implements [Node]: it stops and removes the container. It is safe on
// a nil container and when called more than once.
func (c *BtcdContainer) Stop(ctx context.Context) error {
	if c == nil {
		return nil
	}
	return c.node.stop(ctx, c.Container)
}

// BitcoindContainer is a Bitcoin Core node in a Docker container, made by
// [RunBitcoind]. Like [BtcdContainer], it embeds testcontainers.Container
// and its Logs and Stop are the [Node] ones.
type BitcoindContainer struct {
	testcontainers.Container
	node *containerNode
}

var _ Node = (*BitcoindContainer)(nil)

// RunBitcoind starts a Bitcoin Core regtest node in a container from img, an
// image the user supplies (see [EnvBitcoindImage]; [BitcoindImageFromEnv]
// reads it), and waits for it to log "init message: Done loading". The
// image's entrypoint must run bitcoind with the container's command as its
// arguments, as the common bitcoind images do; otherwise add
// testcontainers.WithEntrypoint("bitcoind").
//
// bitcoind runs with -v2transport=0 unless WithV2Transport(true) is given,
// and with -peertimeout when WithPeerTimeout is. Like [Run], it returns the
// container even with an error whenever one was created.
func RunBitcoind(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*BitcoindContainer, error) {
	s, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	cmd := bitcoindArgs(s, "0.0.0.0:"+RegtestP2PPort, "0.0.0.0:"+BitcoindRPCPort, "0.0.0.0/0", "")
	ready := wait.ForLog(BitcoindReadyLog).WithPollInterval(50 * time.Millisecond)
	ctr, err := runNode(ctx, img, ImplBitcoind, s, cmd,
		[]string{RegtestP2PPort + "/tcp", BitcoindRPCPort + "/tcp"}, ready, opts)
	var c *BitcoindContainer
	if ctr != nil {
		c = &BitcoindContainer{Container: ctr, node: &containerNode{}}
	}
	if err != nil {
		return c, fmt.Errorf("run bitcoind container from %s: %w", img, err)
	}
	host, err := reachableHost(ctx, ctr, BitcoindRPCPort)
	if err != nil {
		return c, fmt.Errorf("bitcoind container: %w", err)
	}
	if c.node.p2pAddr, err = mappedAddr(ctx, ctr, host, RegtestP2PPort); err != nil {
		return c, fmt.Errorf("bitcoind container: P2P port: %w", err)
	}
	rpcAddr, err := mappedAddr(ctx, ctr, host, BitcoindRPCPort)
	if err != nil {
		return c, fmt.Errorf("bitcoind container: RPC port: %w", err)
	}
	c.node.rpc, err = NewRPCClient(RPCConfig{URL: "http://" + rpcAddr + "/", User: s.rpcUser, Password: s.rpcPass})
	if err != nil {
		return c, fmt.Errorf("bitcoind container: %w", err)
	}
	return c, nil
}

// BitcoindImageFromEnv returns the Bitcoin Core image named by
// $BTC_HANDSHAKE_BITCOIND_IMAGE, and whether it is set.
func BitcoindImageFromEnv() (string, bool) {
	img := os.Getenv(EnvBitcoindImage)
	return img, img != ""
}

// Impl implements [Node].
func (c *BitcoindContainer) Impl() Impl { return ImplBitcoind }

// P2PAddr implements [Node]: the host:port the container's P2P port is
// mapped to on the Docker host.
func (c *BitcoindContainer) P2PAddr() string { return c.node.p2pAddr }

// RPC implements [Node].
func (c *BitcoindContainer) RPC() *RPCClient { return c.node.rpc }

// Logs implements [Node]: the container's output so far.
func (c *BitcoindContainer) Logs(ctx context.Context) (string, error) {
	return c.node.logs(ctx, c.Container)
}

// Stop implements [Node]: it stops and removes the container. It is safe on
// a nil container and when called more than once.
func (c *BitcoindContainer) Stop(ctx context.Context) error {
	if c == nil {
		return nil
	}
	return c.node.stop(ctx, c.Container)
}

// ListContainers returns the IDs of the containers, running or not, that
// carry this package's labels for runID (every run's when runID is empty).
func ListContainers(ctx context.Context, runID string) ([]string, error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: labelFilters(runID)})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	ids := make([]string, 0, len(res.Items))
	for _, it := range res.Items {
		ids = append(ids, it.ID)
	}
	return ids, nil
}

// RemoveContainers force-removes the containers, then the networks, that
// carry this package's labels for runID (every run's when runID is empty),
// and returns how many containers it removed. It is the sweep that replaces
// Ryuk: run it after a test suite.
func RemoveContainers(ctx context.Context, runID string) (int, error) {
	cli, err := dockerClient(ctx)
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	filters := labelFilters(runID)
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filters})
	if err != nil {
		return 0, fmt.Errorf("list containers: %w", err)
	}
	var errs []error
	removed := 0
	for _, it := range res.Items {
		if _, err := cli.ContainerRemove(ctx, it.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			errs = append(errs, fmt.Errorf("remove container %.12s: %w", it.ID, err))
			continue
		}
		removed++
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: filters})
	if err != nil {
		errs = append(errs, fmt.Errorf("list networks: %w", err))
	} else {
		for _, nw := range nets.Items {
			if _, err := cli.NetworkRemove(ctx, nw.ID, client.NetworkRemoveOptions{}); err != nil {
				errs = append(errs, fmt.Errorf("remove network %s: %w", nw.Name, err))
			}
		}
	}
	return removed, errors.Join(errs...)
}

func labelFilters(runID string) client.Filters {
	f := client.Filters{}.Add("label", LabelManaged+"=true")
	if runID != "" {
		f = f.Add("label", LabelRun+"="+runID)
	}
	return f
}
