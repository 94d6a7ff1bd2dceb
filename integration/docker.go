package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Labels put on every container this package starts. With Ryuk disabled
// (see prepareTestcontainers), they are how a test run's leftovers are
// found: docker ps -a --filter label=btc-handshake.managed=true.
const (
	// labelManaged marks a container (or network) as made by this package;
	// its value is "true".
	labelManaged = "btc-handshake.managed"
	// labelRun holds the run id (testcontainers' session id by default).
	labelRun = "btc-handshake.run"
	// labelImpl holds the node implementation (Node.Impl).
	labelImpl = "btc-handshake.impl"
)

// errDockerUnavailable is returned (wrapped, with the reason) by
// dockerAvailable when no Docker engine answers.
var errDockerUnavailable = errors.New("docker engine unavailable")

// prepareTestcontainers disables Ryuk, testcontainers' reaper, unless the
// user decided otherwise: its image would have to be pulled, and these
// containers are removed by Stop (and by our suite's sweep) instead. It
// must run before testcontainers reads its configuration (once, on first
// use).
func prepareTestcontainers() {
	if _, set := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); !set {
		_ = os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
}

// labels returns the labels that mark a container or network as this
// package's, for run id runID (omitted when empty).
func labels(runID string) map[string]string {
	l := map[string]string{labelManaged: "true"}
	if runID != "" {
		l[labelRun] = runID
	}
	return l
}

func dockerClient(ctx context.Context) (*testcontainers.DockerClient, error) {
	prepareTestcontainers()
	return testcontainers.NewDockerClientWithOpts(ctx)
}

// dockerAvailable reports whether a Docker engine answers, with the reason
// when it does not (the error wraps errDockerUnavailable). It honours
// DOCKER_HOST and testcontainers' configuration, and gives up after 10 s.
func dockerAvailable(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	where := "the default Docker socket"
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		where = "DOCKER_HOST=" + h
	}
	cli, err := dockerClient(ctx)
	if err != nil {
		return fmt.Errorf("%w (%s): %v", errDockerUnavailable, where, err)
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("%w (%s): %v", errDockerUnavailable, where, err)
	}
	return nil
}

// listContainers returns the IDs of the containers, running or not, that
// carry this package's labels for runID (every run's when runID is empty).
func listContainers(ctx context.Context, runID string) ([]string, error) {
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

// removeContainers force-removes the containers, then the networks, that
// carry this package's labels for runID (every run's when runID is empty),
// and returns how many containers it removed: the sweep that replaces
// Ryuk after a test suite.
func removeContainers(ctx context.Context, runID string) (int, error) {
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
	f := client.Filters{}.Add("label", labelManaged+"=true")
	if runID != "" {
		f = f.Add("label", labelRun+"="+runID)
	}
	return f
}
