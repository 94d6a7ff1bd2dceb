package integration

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// errRPCUnauthorized is returned (wrapped) when the node rejects the RPC
// credentials (the launchers make them, so this means something overrode
// them, e.g. an -rpcpassword in WithExtraArgs).
var errRPCUnauthorized = errors.New("rpc credentials rejected")

// rpcError is an error object returned by the node for a call
// ([Node].Call, PeerInfo, AddNode); its text holds the method, the code
// and the message.
type rpcError struct {
	// Method is the RPC method called.
	Method string
	// Code and Message are the node's error object (e.g. -32601, method
	// not found, in btcd and Core).
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Error implements error.
func (e *rpcError) Error() string {
	return fmt.Sprintf("rpc %s: error %d: %s", e.Method, e.Code, e.Message)
}

// rpcConfig says how to reach a node's JSON-RPC server.
type rpcConfig struct {
	// URL is the server's address, e.g. https://127.0.0.1:18334/.
	URL string
	// User and Password are sent with HTTP basic authentication.
	User, Password string
	// CertPEM is the server's certificate (btcd's rpc.cert) for an https
	// URL. The certificate is pinned: the server must present exactly this
	// certificate, whatever host name the URL uses. That is what lets a
	// client reach a container through a mapped port on any Docker host
	// while btcd's self-signed certificate names only the container.
	CertPEM []byte
	// Timeout bounds each call when the caller's context has no earlier
	// deadline. Zero means 30 seconds.
	Timeout time.Duration
}

// rpcClient is a small JSON-RPC 1.0 over HTTP client for btcd and bitcoind.
// It is safe for concurrent use.
type rpcClient struct {
	url       string
	user      string
	password  string
	http      *http.Client
	transport *http.Transport
	nextID    atomic.Uint64
}

// newRPCClient returns a client for the server described by cfg.
func newRPCClient(cfg rpcConfig) (*rpcClient, error) {
	if cfg.URL == "" {
		return nil, errors.New("rpc: empty URL")
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	transport := &http.Transport{
		Proxy:               nil, // the node is local or a mapped container port, never behind a proxy
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}
	if strings.HasPrefix(cfg.URL, "https://") {
		tlsConf, err := pinnedTLSConfig(cfg.CertPEM)
		if err != nil {
			return nil, err
		}
		transport.TLSClientConfig = tlsConf
	}
	return &rpcClient{
		url:       cfg.URL,
		user:      cfg.User,
		password:  cfg.Password,
		http:      &http.Client{Transport: transport, Timeout: timeout},
		transport: transport,
	}, nil
}

// pinnedTLSConfig accepts exactly the certificates in certPEM and nothing
// else, without checking host names.
func pinnedTLSConfig(certPEM []byte) (*tls.Config, error) {
	var pinned [][]byte
	for rest := certPEM; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return nil, fmt.Errorf("rpc: parse pinned certificate: %w", err)
		}
		pinned = append(pinned, block.Bytes)
	}
	if len(pinned) == 0 {
		return nil, errors.New("rpc: https URL but no PEM certificate to pin")
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The chain and host name checks are replaced by pinning, below.
		InsecureSkipVerify: true, //nolint:gosec // certificate pinned in VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("rpc: server presented no certificate")
			}
			for _, raw := range pinned {
				if bytes.Equal(cs.PeerCertificates[0].Raw, raw) {
					return nil
				}
			}
			return errors.New("rpc: server certificate is not the node's pinned certificate")
		},
	}, nil
}

// close releases idle connections. The client stays usable.
func (c *rpcClient) close() { c.transport.CloseIdleConnections() }

type rpcRequest struct {
	JSONRPC string `json:"jsonrpc"`
	ID      uint64 `json:"id"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
}

type rpcResponse struct {
	Result json.RawMessage `json:"result"`
	Error  *rpcError       `json:"error"`
	ID     json.RawMessage `json:"id"`
}

// call invokes method with params and returns the raw result. An error
// object from the node is returned as *rpcError.
func (c *rpcClient) call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	body, err := json.Marshal(rpcRequest{JSONRPC: "1.0", ID: c.nextID.Add(1), Method: method, Params: params})
	if err != nil {
		return nil, fmt.Errorf("rpc %s: encode request: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("rpc %s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(c.user, c.password)

	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("rpc %s at %s: %w", method, c.url, err)
	}
	defer resp.Body.Close()
	// Results here are small (peer lists); cap what a broken server can make us hold.
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("rpc %s at %s: read response: %w", method, c.url, err)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return nil, fmt.Errorf("rpc %s at %s: %s: %w", method, c.url, resp.Status, errRPCUnauthorized)
	}

	// Bitcoin Core answers JSON-RPC 1.0 errors with HTTP 404/500 and a JSON
	// body, btcd with 200: decode the body whatever the status.
	var out rpcResponse
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("rpc %s at %s: %s: undecodable response %q: %w",
			method, c.url, resp.Status, truncate(data, 200), err)
	}
	if out.Error != nil {
		out.Error.Method = method
		return nil, out.Error
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("rpc %s at %s: %s", method, c.url, resp.Status)
	}
	return out.Result, nil
}

// peerInfo calls getpeerinfo.
func (c *rpcClient) peerInfo(ctx context.Context) ([]PeerInfo, error) {
	raw, err := c.call(ctx, "getpeerinfo")
	if err != nil {
		return nil, err
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("rpc getpeerinfo: decode result: %w", err)
	}
	peers := make([]PeerInfo, 0, len(entries))
	for _, e := range entries {
		var p PeerInfo
		if err := json.Unmarshal(e, &p); err != nil {
			return nil, fmt.Errorf("rpc getpeerinfo: decode entry %s: %w", truncate(e, 200), err)
		}
		p.Raw = e
		peers = append(peers, p)
	}
	return peers, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
