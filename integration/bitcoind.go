package integration

import (
	"fmt"
	"os"
	"os/exec"
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
	return append(args, s.extraArgs...)
}

// bitcoindExecutable returns the bitcoind to run: bin, else
// $BTC_HANDSHAKE_BITCOIND, else bitcoind from PATH.
func bitcoindExecutable(bin string) (string, error) {
	if bin != "" {
		return bin, nil
	}
	if p := os.Getenv(envBitcoindBinary); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("bitcoind")
	if err != nil {
		return "", fmt.Errorf("no bitcoind: name one, set %s or put bitcoind on PATH: %w", envBitcoindBinary, err)
	}
	return p, nil
}

// bitcoindImage returns the Bitcoin Core image to run: img, else
// $BTC_HANDSHAKE_BITCOIND_IMAGE. No image is built or chosen here.
func bitcoindImage(img string) (string, error) {
	if img != "" {
		return img, nil
	}
	if img = os.Getenv(envBitcoindImage); img != "" {
		return img, nil
	}
	return "", fmt.Errorf("no Bitcoin Core image: name one or set %s (e.g. bitcoin/bitcoin:29)", envBitcoindImage)
}
