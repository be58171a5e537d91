package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/rampartnet/rampart/sensor/detect"
)

// maxTop bounds n in GET top.
const maxTop = 1000

func (s *Server) getStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.deps.Status.Status())
}

func (s *Server) getTop(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	metric := q.Get("metric")
	if metric == "" {
		metric = "pps"
	}
	series, err := parseSeries("metric", metric)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	dir, err := parseDir("direction", q.Get("direction"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	n := 20
	if v := q.Get("n"); v != "" {
		n, err = strconv.Atoi(v)
		if err != nil || n < 1 || n > maxTop {
			writeError(w, http.StatusBadRequest, (&FieldError{"n", "must be 1-" + strconv.Itoa(maxTop) + ", got " + strconv.Quote(v)}).Error())
			return
		}
	}
	rows := s.deps.Hosts.Top(series, dir, n)
	if rows == nil {
		rows = []HostRow{}
	}
	writeJSON(w, http.StatusOK, Top{Metric: series.String(), Direction: dir.String(), Hosts: rows})
}

func (s *Server) getHost(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("ip")
	ip, err := netip.ParseAddr(raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, (&FieldError{"ip", "must be an IPv4 or IPv6 address, got " + strconv.Quote(raw)}).Error())
		return
	}
	h, ok := s.deps.Hosts.Host(ip.Unmap())
	if !ok {
		writeError(w, http.StatusNotFound, "host "+ip.Unmap().String()+" is not tracked")
		return
	}
	writeJSON(w, http.StatusOK, h)
}

func (s *Server) getAttacks(w http.ResponseWriter, _ *http.Request) {
	as := s.deps.Attacks.Attacks()
	if as == nil {
		as = []detect.Attack{}
	}
	writeJSON(w, http.StatusOK, as)
}

func (s *Server) getMitigations(w http.ResponseWriter, _ *http.Request) {
	ms := s.deps.Mitigations.Mitigations()
	if ms == nil {
		ms = []Mitigation{}
	}
	writeJSON(w, http.StatusOK, ms)
}

func (s *Server) postBan(w http.ResponseWriter, r *http.Request) {
	b, err := DecodeBan(http.MaxBytesReader(w, r.Body, maxBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.deps.Mitigations.Ban(b.IP, b.Direction, b.Reason, b.Duration); err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	s.log.Info().Str("ip", b.IP.String()).Stringer("direction", b.Direction).Str("reason", b.Reason).
		Dur("duration", b.Duration).Str("remote", r.RemoteAddr).Msg("manual ban queued")
	a := Accepted{Queued: true, IP: b.IP.String(), Direction: b.Direction.String(), Reason: b.Reason}
	if b.Duration > 0 {
		a.Duration = b.Duration.String()
	}
	writeJSON(w, http.StatusAccepted, a)
}

func (s *Server) postUnban(w http.ResponseWriter, r *http.Request) {
	u, err := DecodeUnban(http.MaxBytesReader(w, r.Body, maxBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := s.deps.Mitigations.Unban(u.IP, u.Reason); err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	s.log.Info().Str("ip", u.IP.String()).Str("reason", u.Reason).Str("remote", r.RemoteAddr).Msg("manual unban queued")
	writeJSON(w, http.StatusAccepted, Accepted{Queued: true, IP: u.IP.String(), Reason: u.Reason})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away: nothing to do
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, Error{Error: msg})
}

// ErrNotRunning is what adapters return before the sensor has started.
var ErrNotRunning = errors.New("sensor is not running")

// postReload reloads the configuration. The body is empty or {}: what to
// load is the file the sensor started with.
func (s *Server) postReload(w http.ResponseWriter, r *http.Request) {
	if s.deps.Reload == nil {
		writeError(w, http.StatusNotFound, "config reload is not available")
		return
	}
	if err := DecodeEmpty(http.MaxBytesReader(w, r.Body, maxBody+1)); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := s.deps.Reload.Reload("api")
	if err != nil {
		// The file is the operator's to fix; the running configuration stays.
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	s.log.Info().Str("trigger", res.Trigger).Strs("applied", res.Applied).Strs("restart_required", res.RestartRequired).
		Str("remote", r.RemoteAddr).Msg("configuration reloaded")
	writeJSON(w, http.StatusOK, res)
}
