package baseline

import (
	"math"
	"math/rand/v2"
)

// Synthetic histories for tests and benchmarks: hosts of heavy-tailed
// sizes (Pareto), a daily curve, log-normal noise, rare benign bursts and
// injected attacks. Pure: the same SynthConfig gives the same history.

// Series of a synthetic row, as the sensor orders them per direction:
// pps, bps (here Mbit/s, the threshold's unit), flows, tcp_pps, syn_pps,
// udp_pps, icmp_pps, frag_pps; inbound first, then outbound.
const (
	SynthPPS = iota
	SynthMbps
	SynthFlows
	SynthTCP
	SynthSYN
	SynthUDP
	SynthICMP
	SynthFrag
	SynthPerDir
	SynthSeries = 2 * SynthPerDir
)

// SynthConfig describes a history.
type SynthConfig struct {
	Seed      uint64
	Hosts     int
	Start     int64 // ns, first interval start
	Interval  int64 // ns
	Intervals int
	MinPPS    float64   // smallest host's typical inbound pps at the daily peak
	Alpha     float64   // Pareto shape of host sizes (smaller: heavier tail)
	MaxPPS    float64   // sizes are capped here
	Sizes     []float64 // if set, the first hosts' sizes instead of drawn ones
	Noise     float64   // sigma of the log-normal noise per interval
	Night     float64   // traffic at the daily low, as a share of the high
	Bursts    float64   // probability of a benign burst per host interval
	BurstMax  float64   // bursts multiply the interval by up to this
	Attacks   int       // attacks injected
	AttackLen int       // intervals each lasts, at most
	// AttackPPS is an attack's added rate: at least AttackFactor × the
	// victim's typical peak and at least AttackMin pps.
	AttackFactor, AttackMin float64
}

// SynthAttack is one injected attack.
type SynthAttack struct {
	Host       int
	First, End int // intervals [First, End)
	PPS        float64
	Kind       int // SynthUDP or SynthSYN: the protocol series it adds to
}

// Synth is a generated history.
type Synth struct {
	Cfg     SynthConfig
	Size    []float64 // per host: typical inbound pps at the daily peak
	Attacks []SynthAttack
	byHost  map[int][]int
}

// NewSynth draws the hosts and the attacks of cfg.
func NewSynth(cfg SynthConfig) *Synth {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	s := &Synth{Cfg: cfg, Size: make([]float64, cfg.Hosts), byHost: map[int][]int{}}
	for h := range s.Size {
		// Pareto: MinPPS / U^(1/alpha).
		s.Size[h] = min(cfg.MaxPPS, cfg.MinPPS/math.Pow(1-rng.Float64(), 1/cfg.Alpha))
		if h < len(cfg.Sizes) {
			s.Size[h] = cfg.Sizes[h]
		}
	}
	for i := range cfg.Attacks {
		h := rng.IntN(cfg.Hosts)
		n := 1 + rng.IntN(max(1, cfg.AttackLen))
		first := rng.IntN(max(1, cfg.Intervals-n))
		kind := SynthUDP
		if i%2 == 1 {
			kind = SynthSYN
		}
		a := SynthAttack{Host: h, First: first, End: first + n, Kind: kind,
			PPS: max(cfg.AttackMin, cfg.AttackFactor*s.Size[h])}
		s.byHost[h] = append(s.byHost[h], len(s.Attacks))
		s.Attacks = append(s.Attacks, a)
	}
	return s
}

// Key is host h's address: IPv4-mapped 10.x.y.z.
func (s *Synth) Key(h int) Key {
	var k Key
	k[10], k[11] = 0xff, 0xff
	k[12], k[13], k[14], k[15] = 10, byte(h>>16), byte(h>>8), byte(h)
	return k
}

// Daily is the traffic level at ns since the epoch: 1 at 14:00 UTC,
// Night at 02:00.
func (s *Synth) Daily(t int64) float64 {
	day := float64(t%(24*int64(3600e9))) / float64(24*int64(3600e9))
	c := 0.5 + 0.5*math.Cos(2*math.Pi*(day-14.0/24))
	return s.Cfg.Night + (1-s.Cfg.Night)*c
}

// Row fills peaks (len SynthSeries) with host h's interval i and returns
// whether an injected attack covers it. Deterministic per (seed, h, i).
func (s *Synth) Row(h, i int, peaks []float64) (attack bool) {
	rng := rand.New(rand.NewPCG(s.Cfg.Seed^uint64(h)*0x9e3779b97f4a7c15, uint64(i)))
	t := s.Cfg.Start + int64(i)*s.Cfg.Interval
	level := s.Size[h] * s.Daily(t) * math.Exp(s.Cfg.Noise*rng.NormFloat64())
	if rng.Float64() < s.Cfg.Bursts {
		level *= 1 + rng.Float64()*(s.Cfg.BurstMax-1)
	}
	in := peaks[:SynthPerDir]
	in[SynthPPS] = level
	in[SynthTCP] = 0.7 * level
	in[SynthSYN] = 0.01 * level
	in[SynthUDP] = 0.25 * level
	in[SynthICMP] = 0.01 * level
	in[SynthFrag] = 0.001 * level
	in[SynthFlows] = 0.05 * level
	in[SynthMbps] = level * 900 * 8 / 1e6
	out := peaks[SynthPerDir:]
	for j := range out {
		out[j] = 0.6 * in[j]
	}
	for _, ai := range s.byHost[h] {
		a := &s.Attacks[ai]
		if i < a.First || i >= a.End {
			continue
		}
		attack = true
		in[SynthPPS] += a.PPS
		in[a.Kind] += a.PPS
		if a.Kind == SynthSYN {
			in[SynthTCP] += a.PPS
			in[SynthMbps] += a.PPS * 60 * 8 / 1e6
			in[SynthFlows] += a.PPS // spoofed sources: every SYN a new flow
		} else {
			in[SynthMbps] += a.PPS * 1200 * 8 / 1e6
		}
	}
	return attack
}
