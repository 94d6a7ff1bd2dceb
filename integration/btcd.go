package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// btcdVersion is the btcd release built when the calling module does not
// itself require github.com/btcsuite/btcd (this module pins the same one).
const btcdVersion = "v0.26.2"

const btcdModule = "github.com/btcsuite/btcd"

// btcdModuleVersion reports the btcd version the go command resolves in the
// working directory's module, or "" when that module does not require btcd.
func btcdModuleVersion(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f",
		"{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}", btcdModule).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// buildBtcd builds a statically linked btcd (CGO_ENABLED=0) for goos/goarch
// and returns the path of the executable.
//
// When the working directory's module requires github.com/btcsuite/btcd,
// btcd is built at that version from there (so the go.sum already checked
// in is used); otherwise btcdVersion is built in a throwaway module. The
// result is cached under os.UserCacheDir()/btc-handshake by version and
// platform, so only the first call pays for the build (about 30 s cold).
// It needs the go command on PATH.
func buildBtcd(ctx context.Context, goos, goarch string) (string, error) {
	if _, err := exec.LookPath("go"); err != nil {
		return "", fmt.Errorf("build btcd: the go command is needed to build btcd (or set %s to a btcd executable): %w",
			envBtcdBinary, err)
	}
	version := btcdModuleVersion(ctx)
	inModule := version != ""
	if !inModule {
		version = btcdVersion
	}

	cacheRoot, err := os.UserCacheDir()
	if err != nil {
		cacheRoot = os.TempDir()
	}
	name := "btcd"
	if goos == "windows" {
		name += ".exe"
	}
	dir := filepath.Join(cacheRoot, "btc-handshake", "btcd",
		fmt.Sprintf("%s-%s-%s", sanitize(version), goos, goarch))
	bin := filepath.Join(dir, name)
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build btcd: %w", err)
	}

	// Build next to the final path and rename, so that concurrent builders
	// (parallel test processes) never see a half-written executable.
	tmp, err := os.CreateTemp(dir, name+".tmp*")
	if err != nil {
		return "", fmt.Errorf("build btcd: %w", err)
	}
	tmpPath := tmp.Name()
	_ = tmp.Close()
	defer os.Remove(tmpPath)

	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", tmpPath, btcdModule)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
	if !inModule {
		modDir, err := os.MkdirTemp("", "btc-handshake-btcd-build")
		if err != nil {
			return "", fmt.Errorf("build btcd: %w", err)
		}
		defer os.RemoveAll(modDir)
		gomod := fmt.Sprintf("module btc-handshake-btcd-build\n\ngo 1.22\n\nrequire %s %s\n", btcdModule, btcdVersion)
		if err := os.WriteFile(filepath.Join(modDir, "go.mod"), []byte(gomod), 0o644); err != nil {
			return "", fmt.Errorf("build btcd: %w", err)
		}
		cmd.Dir = modDir
		// The throwaway module has no go.sum: let the go command fill it in.
		cmd.Env = append(cmd.Env, "GOFLAGS=-mod=mod")
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build btcd %s for %s/%s: %w\n%s", version, goos, goarch, err, out.String())
	}
	if err := os.Chmod(tmpPath, 0o755); err != nil {
		return "", fmt.Errorf("build btcd: %w", err)
	}
	if err := os.Rename(tmpPath, bin); err != nil {
		return "", fmt.Errorf("build btcd: %w", err)
	}
	return bin, nil
}

// btcdExecutable returns the btcd to run on this machine: bin, else
// $BTC_HANDSHAKE_BTCD, else one built from the module.
func btcdExecutable(ctx context.Context, bin string) (string, error) {
	if bin != "" {
		return bin, nil
	}
	if p := os.Getenv(envBtcdBinary); p != "" {
		return p, nil
	}
	return buildBtcd(ctx, runtime.GOOS, runtime.GOARCH)
}

// btcdArgs is btcd's command line. join builds paths under dataDir.
func btcdArgs(s settings, p2pListen, rpcListen, dataDir string, join func(...string) string) []string {
	args := []string{
		"--regtest",
		"--listen=" + p2pListen,
		"--rpclisten=" + rpcListen,
		"--rpcuser=" + s.rpcUser,
		"--rpcpass=" + s.rpcPass,
		"--datadir=" + join(dataDir, "chain"),
		"--logdir=" + join(dataDir, "logs"),
		"--rpccert=" + join(dataDir, "rpc.cert"),
		"--rpckey=" + join(dataDir, "rpc.key"),
		// A small UTXO cache lets btcd answer within ~100 ms of starting.
		"--utxocachemaxsize=5",
		"--nodnsseed",
	}
	if s.v2transport {
		args = append(args, "--v2transport")
	}
	return append(args, s.extraArgs...)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '+':
			return r
		}
		return '_'
	}, s)
}
