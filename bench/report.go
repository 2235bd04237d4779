package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Names of the measured variants, as the report prints them.
const (
	NameCopy          = "COPY " + DominantTable + " TO STDOUT (limit)"
	NamePgarkDump1    = "pgark dump -j1"
	NamePgarkDump2    = "pgark dump -j2"
	NamePgDumpFc      = "pg_dump -Fc"
	NamePgDumpFd2     = "pg_dump -Fd -j2"
	NamePgarkRestore1 = "pgark restore -j1"
	NamePgarkRestore2 = "pgark restore -j2"
	// NamePgarkRestore2Text loads everything as COPY text, as the
	// archive stores it: what COPY binary gains, side by side.
	NamePgarkRestore2Text = "pgark restore -j2 --text-copy"
	NamePgRestore2        = "pg_restore -j2 (of -Fd)"
)

// Report is what Run measured. Times are medians over the runs; sizes and
// row counts come from the first run (the dumps are deterministic but for
// block order).
type Report struct {
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"` // the whole benchmark, dataset and build included
	Host     Host      `json:"host"`
	Server   string    `json:"server"`   // e.g. "PostgreSQL 15.14"
	Settings []string  `json:"settings"` // server settings that matter, e.g. "fsync=off"
	PgDump   string    `json:"pg_dump"`  // pg_dump --version
	Pgark    string    `json:"pgark"`    // pgark version
	Dataset  Dataset   `json:"dataset"`
	// DatabaseBytes is pg_database_size of the source; DominantBytes the
	// dominant table with its TOAST, without indexes.
	DatabaseBytes int64   `json:"database_bytes"`
	DominantBytes int64   `json:"dominant_bytes"`
	LoadSeconds   float64 `json:"load_seconds"` // generating the dataset
	Check         string  `json:"check"`        // the source's summary every restore matched
	Runs          int     `json:"runs"`

	Results []Result `json:"results"`
	Targets []Target `json:"targets"`
}

// Host is the machine the benchmark ran on.
type Host struct {
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
	// LoadAvg is /proc/loadavg when the measurements began (Linux): a
	// load above the CPU count means other work competed with the runs.
	LoadAvg string `json:"load_avg,omitempty"`
}

// Result is one variant (a tool with its flags) over all runs.
type Result struct {
	Name    string    `json:"name"`
	Op      string    `json:"op"`      // "copy", "dump" or "restore"
	Command string    `json:"command"` // what ran, binaries by base name
	Seconds []float64 `json:"seconds"` // wall time of each run
	Median  float64   `json:"median_seconds"`
	// CPUSeconds is the median user+system time of the client process
	// (with the workers it forked and reaped).
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
	// MachineCPUSeconds is the median CPU time the whole machine spent
	// during a run, server and client together (Linux, from /proc/stat):
	// divided by the wall time, how many cores the variant kept busy.
	MachineCPUSeconds float64 `json:"machine_cpu_seconds,omitempty"`
	// PeakRSS is the largest peak resident set of the client over the
	// runs, in bytes; for a tool that forks workers, of its largest
	// single process.
	PeakRSS int64 `json:"peak_rss_bytes,omitempty"`
	// Bytes is the archive's size (a dump's file or directory).
	Bytes int64 `json:"bytes,omitempty"`
}

// Target is one goal of issue 6 next to what was measured; a Target with
// no Goal is shown for information.
type Target struct {
	Name     string  `json:"name"`
	Measured float64 `json:"measured"`
	Unit     string  `json:"unit"` // "x" for ratios, "MB" for memory
	Goal     string  `json:"goal,omitempty"`
	Pass     bool    `json:"pass"`
}

func newResult(name, op, command string, samples []sample) Result {
	r := Result{Name: name, Op: op, Command: command}
	var walls, cpus, machine []time.Duration
	for _, s := range samples {
		walls = append(walls, s.wall)
		cpus = append(cpus, s.cpu)
		machine = append(machine, s.machine)
		r.Seconds = append(r.Seconds, s.wall.Seconds())
		r.PeakRSS = max(r.PeakRSS, s.peakRSS)
	}
	r.Median = median(walls).Seconds()
	r.CPUSeconds = median(cpus).Seconds()
	r.MachineCPUSeconds = median(machine).Seconds()
	return r
}

// Result returns the result named name, or nil.
func (r *Report) Result(name string) *Result {
	for i := range r.Results {
		if r.Results[i].Name == name {
			return &r.Results[i]
		}
	}
	return nil
}

const mb = 1e6

// evaluate fills r.Targets from r.Results: issue 6's goals, then three
// ratios for information.
func (r *Report) evaluate() {
	get := func(name string) Result {
		if res := r.Result(name); res != nil {
			return *res
		}
		return Result{}
	}
	ratio := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return a / b
	}
	copyLimit, dump1, dump2 := get(NameCopy), get(NamePgarkDump1), get(NamePgarkDump2)
	fc, fd := get(NamePgDumpFc), get(NamePgDumpFd2)
	restore1, restore2, pgRestore := get(NamePgarkRestore1), get(NamePgarkRestore2), get(NamePgRestore2)
	restore2Text := get(NamePgarkRestore2Text)
	peak := max(dump1.PeakRSS, dump2.PeakRSS, restore1.PeakRSS, restore2.PeakRSS, restore2Text.PeakRSS)

	speedup := ratio(fc.Median, dump2.Median)
	size := ratio(float64(dump2.Bytes), float64(fc.Bytes))
	restore := ratio(pgRestore.Median, restore2.Median)
	stream := ratio(dump1.Median, copyLimit.Median)
	r.Targets = []Target{
		{Name: "dump speed: pg_dump -Fc / pgark dump -j2", Measured: speedup, Unit: "x", Goal: ">= 2.5x", Pass: speedup >= 2.5},
		{Name: "archive size: pgark -j2 / pg_dump -Fc", Measured: size, Unit: "x", Goal: "<= 0.9x", Pass: size > 0 && size <= 0.9},
		{Name: "restore speed: pg_restore -j2 / pgark restore -j2", Measured: restore, Unit: "x", Goal: ">= 1.4x", Pass: restore >= 1.4},
		{Name: "single stream: pgark dump -j1 / COPY limit", Measured: stream, Unit: "x", Goal: "<= 1.3x", Pass: stream > 0 && stream <= 1.3},
		{Name: "peak RSS of pgark (dump and restore)", Measured: float64(peak) / mb, Unit: "MB", Goal: "< 300 MB", Pass: peak > 0 && peak < 300*mb},
		{Name: "dump speed: pg_dump -Fd -j2 / pgark dump -j2", Measured: ratio(fd.Median, dump2.Median), Unit: "x"},
		{Name: "archive size: pgark -j2 / pg_dump -Fd -j2", Measured: ratio(float64(dump2.Bytes), float64(fd.Bytes)), Unit: "x"},
		{Name: "COPY binary: pgark restore -j2 --text-copy / pgark restore -j2", Measured: ratio(restore2Text.Median, restore2.Median), Unit: "x"},
	}
}

// WriteText prints the report as two tables: the measurements, then the
// targets with PASS or MISS.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "pgark bench, %s, %s %s (%d CPUs", r.Started.Format(time.DateTime), r.Host.OS, r.Host.Arch, r.Host.CPUs)
	if r.Host.LoadAvg != "" {
		fmt.Fprintf(&b, ", load average %s before measuring", r.Host.LoadAvg)
	}
	b.WriteString(")\n")
	fmt.Fprintf(&b, "server:  %s, %s\n", r.Server, strings.Join(r.Settings, ", "))
	fmt.Fprintf(&b, "tools:   %s; pgark %s\n", r.PgDump, r.Pgark)
	fmt.Fprintf(&b, "dataset: %s rows in %s (%s) + %d small tables, database %s, generated in %.1fs\n",
		thousands(r.Dataset.Rows), DominantTable, megabytes(r.DominantBytes), r.Dataset.SmallTables,
		megabytes(r.DatabaseBytes), r.LoadSeconds)
	fmt.Fprintf(&b, "each restore matched the source: %s\n", r.Check)
	fmt.Fprintf(&b, "times are medians of %d run(s); peak RSS is the largest over the runs\n\n", r.Runs)

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "variant\ttime\truns\tclient CPU\tmachine CPU (cores)\tpeak RSS\tarchive\n")
	for _, res := range r.Results {
		var runs []string
		for _, s := range res.Seconds {
			runs = append(runs, fmt.Sprintf("%.2f", s))
		}
		cpu, machine, rss, size := "-", "-", "-", "-"
		if res.CPUSeconds > 0 {
			cpu = fmt.Sprintf("%.2fs", res.CPUSeconds)
		}
		if res.MachineCPUSeconds > 0 && res.Median > 0 {
			machine = fmt.Sprintf("%.2fs (%.1f)", res.MachineCPUSeconds, res.MachineCPUSeconds/res.Median)
		}
		if res.PeakRSS > 0 {
			rss = megabytes(res.PeakRSS)
		}
		if res.Bytes > 0 {
			size = megabytes(res.Bytes)
		}
		fmt.Fprintf(tw, "%s\t%.2fs\t%s\t%s\t%s\t%s\t%s\n", res.Name, res.Median, strings.Join(runs, " "), cpu, machine, rss, size)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString("\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "issue 6 target\tmeasured\tgoal\tverdict\n")
	for _, t := range r.Targets {
		verdict := "(info)"
		goal := "-"
		if t.Goal != "" {
			goal = t.Goal
			verdict = "MISS"
			if t.Pass {
				verdict = "PASS"
			}
		}
		measured := fmt.Sprintf("%.2fx", t.Measured)
		if t.Unit != "x" {
			measured = fmt.Sprintf("%.0f %s", t.Measured, t.Unit)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, measured, goal, verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// megabytes formats a byte count in MB (10^6), one decimal below 100 MB.
func megabytes(n int64) string {
	v := float64(n) / mb
	if v < 100 {
		return fmt.Sprintf("%.1f MB", v)
	}
	return fmt.Sprintf("%.0f MB", v)
}

// thousands formats n with comma separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
