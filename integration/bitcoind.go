package integration

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// bitcoindArgs is bitcoind's command line. dataDir may be empty, to keep the
// image's own -datadir.
func bitcoindArgs(s settings, bind, rpcBind, rpcAllowIP, dataDir string) []string {
	v2 := "0"
	if s.v2transport {
		v2 = "1"
	}
	args := []string{
		"-regtest",
		"-server=1",
		"-listen=1",
		"-bind=" + bind,
		"-rpcbind=" + rpcBind,
		"-rpcallowip=" + rpcAllowIP,
		"-rpcuser=" + s.rpcUser,
		"-rpcpassword=" + s.rpcPass,
		"-v2transport=" + v2,
		"-printtoconsole=1",
		// Nothing but the peers a test asks for.
		"-dnsseed=0",
		"-fixedseeds=0",
		"-listenonion=0",
		// Handshake messages in the log, for diagnosing failed specs.
		"-debug=net",
	}
	if dataDir != "" {
		args = append(args, "-datadir="+dataDir)
	}
	if s.peerTimeout > 0 {
		secs := int64((s.peerTimeout + time.Second - 1) / time.Second)
		args = append(args, "-peertimeout="+strconv.FormatInt(secs, 10))
	}
	return append(args, s.extraArgs...)
}

// bitcoindExecutable returns the bitcoind to run: the WithBinary path, else
// $BTC_HANDSHAKE_BITCOIND, else bitcoind from PATH.
func bitcoindExecutable(s settings) (string, error) {
	if s.binary != "" {
		return s.binary, nil
	}
	if p := os.Getenv(EnvBitcoindBinary); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("bitcoind")
	if err != nil {
		return "", fmt.Errorf("no bitcoind: set %s or put bitcoind on PATH: %w", EnvBitcoindBinary, err)
	}
	return p, nil
}
