package integration

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// btcdImageRepo is the repository of the default btcd image; the tag is
// the btcd version.
const btcdImageRepo = "btc-handshake/btcd"

// buildBtcdImage makes the default btcd image, btc-handshake/btcd:<version>,
// unless the Docker engine already has it, and returns its tag. The image is
// FROM scratch around a static btcd built by buildBtcd for the engine's
// architecture, so nothing is pulled. It is built with the classic builder,
// which builds FROM scratch without contacting a registry.
func buildBtcdImage(ctx context.Context) (string, error) {
	version := btcdModuleVersion(ctx)
	if version == "" {
		version = btcdVersion
	}
	tag := btcdImageRepo + ":" + sanitize(version)

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
	bin, err := buildBtcd(ctx, "linux", arch)
	if err != nil {
		return "", fmt.Errorf("build btcd image: %w", err)
	}
	buildDir, err := btcdImageContext(bin)
	if err != nil {
		return "", fmt.Errorf("build btcd image: %w", err)
	}
	defer os.RemoveAll(buildDir)

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
				o.Labels = map[string]string{labelImpl: implBtcd, "btc-handshake.btcd-version": version}
			},
		},
	})
	if err != nil {
		return "", fmt.Errorf("build btcd image %s: %w\n%s", tag, err, buildLog.String())
	}
	return tag, nil
}

// btcdImageContext makes a temporary build context for the btcd image: the
// executable bin and a Dockerfile. The caller removes it.
func btcdImageContext(bin string) (string, error) {
	dir, err := os.MkdirTemp("", "btc-handshake-btcd-image-")
	if err != nil {
		return "", err
	}
	if err := copyFile(bin, filepath.Join(dir, "btcd"), 0o755); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	dockerfile := "FROM scratch\n" +
		"COPY btcd /btcd\n" +
		"EXPOSE " + regtestP2PPort + " " + btcdRPCPort + "\n" +
		`ENTRYPOINT ["/btcd"]` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		_ = os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
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
