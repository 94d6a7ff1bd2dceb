package integration

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/testcontainers/testcontainers-go"
)

// ErrNoGateway is returned by HostIP when the container is on no network
// with an IPv4 gateway (host networking, say).
var ErrNoGateway = errors.New("container has no network gateway")

// hostIP is the gateway of the container's first network (by name, for a
// stable answer): the address of the Docker host on that network, where a
// node in the container reaches a server of the test process, provided the
// test process runs on the Docker host itself (not with a remote
// DOCKER_HOST) and the server listens on that address.
func hostIP(ctx context.Context, ctr testcontainers.Container) (string, error) {
	if ctr == nil {
		return "", errors.New("no container")
	}
	info, err := ctr.Inspect(ctx)
	if err != nil {
		return "", fmt.Errorf("inspect container: %w", err)
	}
	if info.NetworkSettings == nil {
		return "", ErrNoGateway
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
	return "", ErrNoGateway
}

// HostIP is the address at which the node in the container reaches the
// Docker host: the gateway of its network (172.17.0.1 on Docker's default
// bridge). A test that wants the node to connect out to a mock peer makes
// the mock listen there (mockpeer.WithAddr(ip+":0")) and gives the
// node that address (RPC addnode). It works when the test process runs on
// the Docker host, as in CI; not with a remote DOCKER_HOST.
func (c *BtcdContainer) HostIP(ctx context.Context) (string, error) {
	return hostIP(ctx, c.Container)
}

// HostIP is as [BtcdContainer.HostIP].
func (c *BitcoindContainer) HostIP(ctx context.Context) (string, error) {
	return hostIP(ctx, c.Container)
}
