package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/netrecon/netrecon/api"
)

// daemonFlags say which daemon a verb asks, and with which token.
type daemonFlags struct {
	url       string
	tokenFile string
	timeout   time.Duration
}

func (f *daemonFlags) register(cmd *cobra.Command, required bool) {
	what := "the daemon's address, e.g. http://127.0.0.1:9090 (default $NETRECON_DAEMON)"
	if !required {
		what = "also show the live state from the daemon at this address (default $NETRECON_DAEMON)"
	}
	cmd.Flags().StringVar(&f.url, "daemon", "", what)
	cmd.Flags().StringVar(&f.tokenFile, "token-file", "", "file holding the API token (default $NETRECON_TOKEN_FILE, or the token in $NETRECON_TOKEN)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 30*time.Second, "deadline of each request to the daemon")
}

// client returns the daemon client, or nil when no daemon was named and
// none is required.
func (f *daemonFlags) client(required bool) (*daemonClient, error) {
	url := f.url
	if url == "" {
		url = os.Getenv("NETRECON_DAEMON")
	}
	if url == "" {
		if required {
			return nil, errors.New("no daemon: give --daemon http://HOST:PORT (the listen address of netrecon serve) or set NETRECON_DAEMON")
		}
		return nil, nil
	}
	token := os.Getenv("NETRECON_TOKEN")
	file := f.tokenFile
	if file == "" {
		file = os.Getenv("NETRECON_TOKEN_FILE")
	}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("token file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	return &daemonClient{base: strings.TrimRight(url, "/"), token: token, http: &http.Client{Timeout: f.timeout}}, nil
}

// daemonClient talks to the daemon's API (docs/openapi.yaml).
type daemonClient struct {
	base, token string
	http        *http.Client
}

func (c *daemonClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("daemon %s: %w", c.base, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("daemon %s: %w (is netrecon serve listening there?)", c.base, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("daemon %s: %s %s: %w", c.base, method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e api.Error
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(b))
		}
		hint := ""
		switch resp.StatusCode {
		case http.StatusUnauthorized:
			hint = " (give the token with --token-file or NETRECON_TOKEN)"
		case http.StatusForbidden:
			hint = " (this needs a token of a larger scope: api.tokens in the daemon's config)"
		}
		return fmt.Errorf("daemon %s: %s %s: %s: %s%s", c.base, method, path, resp.Status, e.Error, hint)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("daemon %s: %s %s: the answer is not the API's JSON: %w", c.base, method, path, err)
	}
	return nil
}

func (c *daemonClient) get(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, out)
}
