package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls the API, as the CLI does.
type Client struct {
	base  string // http://host:port
	token string
	hc    *http.Client
}

// NewClient talks to addr (host:port or a URL) with token (may be empty).
func NewClient(addr, token string) *Client {
	base := strings.TrimRight(addr, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &Client{base: base, token: token, hc: &http.Client{Timeout: 10 * time.Second}}
}

// StatusError is an error answer from the API.
type StatusError struct {
	Code int
	Msg  string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("api: %d %s: %s", e.Code, http.StatusText(e.Code), e.Msg)
}

// Status calls GET /api/v1/status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	return st, c.get(ctx, "/api/v1/status", &st)
}

// Top calls GET /api/v1/top.
func (c *Client) Top(ctx context.Context, metric, direction string, n int) (Top, error) {
	q := url.Values{"metric": {metric}, "direction": {direction}, "n": {strconv.Itoa(n)}}
	var t Top
	return t, c.get(ctx, "/api/v1/top?"+q.Encode(), &t)
}

// Raw calls GET path and returns the body undecoded, for --json.
func (c *Client) Raw(ctx context.Context, path string) (json.RawMessage, error) {
	var m json.RawMessage
	return m, c.get(ctx, path, &m)
}

// Attacks calls GET /api/v1/attacks into v (a slice of attacks).
func (c *Client) Attacks(ctx context.Context, v any) error {
	return c.get(ctx, "/api/v1/attacks", v)
}

// Ban calls POST /api/v1/mitigations/ban.
func (c *Client) Ban(ctx context.Context, req BanRequest) (Accepted, error) {
	var a Accepted
	return a, c.post(ctx, "/api/v1/mitigations/ban", req, &a)
}

// Unban calls POST /api/v1/mitigations/unban.
func (c *Client) Unban(ctx context.Context, req UnbanRequest) (Accepted, error) {
	var a Accepted
	return a, c.post(ctx, "/api/v1/mitigations/unban", req, &a)
}

// Reload calls POST /api/v1/config/reload.
func (c *Client) Reload(ctx context.Context) (ReloadResult, error) {
	var r ReloadResult
	return r, c.post(ctx, "/api/v1/config/reload", struct{}{}, &r)
}

// BGP calls GET /api/v1/bgp.
func (c *Client) BGP(ctx context.Context) (BGPStatus, error) {
	var st BGPStatus
	return st, c.get(ctx, "/api/v1/bgp", &st)
}

// Announce calls POST /api/v1/bgp/announce.
func (c *Client) Announce(ctx context.Context, req AnnounceRequest) (Announced, error) {
	var a Announced
	return a, c.post(ctx, "/api/v1/bgp/announce", req, &a)
}

// Withdraw calls POST /api/v1/bgp/withdraw.
func (c *Client) Withdraw(ctx context.Context, id string) (Announced, error) {
	var a Announced
	return a, c.post(ctx, "/api/v1/bgp/withdraw", WithdrawRequest{ID: id}, &a)
}

func (c *Client) get(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	return c.do(req, v)
}

func (c *Client) post(ctx context.Context, path string, body, v any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req, v)
}

func (c *Client) do(req *http.Request, v any) error {
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("api: reading answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var e Error
		if json.Unmarshal(body, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(body))
		}
		return &StatusError{Code: resp.StatusCode, Msg: e.Error}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("api: decoding answer to %s: %w", req.URL.Path, err)
	}
	return nil
}
