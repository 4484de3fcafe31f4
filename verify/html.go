package verify

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/khabardar/khabardar/identifier"
)

// The HTML report is one file an editor can open anywhere, offline: inline
// CSS, an inline SVG chart, no script, no font, no image, nothing fetched.
// Its Content-Security-Policy forbids every fetch, so even a browser that
// tried could not leak that the report was opened.

// sampleRows lays the sample's figures out two pairs a row: the sample's
// sizes on the left, a count per kind on the right, as many rows as the
// longer column needs.
func sampleRows(s SampleSummary) [][4]string {
	left := [][2]string{{"rows", num(s.Rows)}, {"values read", num(s.Values)}, {"distinct identifiers", num(s.Distinct)}}
	var right [][2]string
	for _, k := range identifier.Kinds {
		in, _ := identifier.InfoOf(k)
		right = append(right, [2]string{in.Plural, num(int(s.Identifiers[k]))})
	}
	rows := make([][4]string, max(len(left), len(right)))
	for i := range rows {
		if i < len(left) {
			rows[i][0], rows[i][1] = left[i][0], left[i][1]
		}
		if i < len(right) {
			rows[i][2], rows[i][3] = right[i][0], right[i][1]
		}
	}
	return rows
}

// chart geometry, in SVG user units.
const (
	chartLabelW = 160 // listing names
	chartBarW   = 300 // 0–100%
	chartRightW = 140 // the share and interval in words
	chartRowH   = 30
	chartTop    = 26 // room for the axis labels
	chartMax    = 15 // listings shown; the rest are in the table
)

type chartRow struct {
	Label, Title, Text    string
	Y, BarW, Lo, Hi, MidY float64
	CapTop, CapBottom     float64 // the whiskers' end caps
	New                   bool
}

type chartTick struct {
	X     float64
	Label string
}

type htmlData struct {
	R          *Report
	Generated  string
	VerdictCSS string
	Rows       []chartRow
	Ticks      []chartTick
	Width      float64
	Height     float64
	X0, X1     float64
	AxisBottom float64
	LabelX     float64
	TextX      float64
	Omitted    int
}

// WriteHTML writes the report as a self-contained HTML page. now dates it.
func (r *Report) WriteHTML(w io.Writer, now time.Time) error {
	d := htmlData{
		R:          r,
		Generated:  now.UTC().Format("2006-01-02 15:04 MST"),
		VerdictCSS: r.Plausibility.Verdict,
		X0:         chartLabelW,
		X1:         chartLabelW + chartBarW,
		LabelX:     chartLabelW - 8,
		TextX:      chartLabelW + chartBarW + 8,
		Width:      chartLabelW + chartBarW + chartRightW,
	}
	if o := r.Origin; o != nil && o.LookedUp > 0 {
		shown := o.Listings
		if len(shown) > chartMax {
			d.Omitted = len(shown) - chartMax
			shown = shown[:chartMax]
		}
		add := func(label, title string, share, lo, hi float64, isNew bool) {
			y := float64(chartTop + len(d.Rows)*chartRowH)
			d.Rows = append(d.Rows, chartRow{
				Label: shorten(label, 22), Title: title, New: isNew,
				Text: pct(share) + "  (" + ci(lo, hi) + ")",
				Y:    y + 6, MidY: y + chartRowH/2, CapTop: y + 9, CapBottom: y + chartRowH - 9,
				BarW: share * chartBarW, Lo: d.X0 + lo*chartBarW, Hi: d.X0 + hi*chartBarW,
			})
		}
		for _, l := range shown {
			add(l.ID, l.Title, l.Share, l.CI95[0], l.CI95[1], false)
		}
		add("in no known listing", "", o.NewShare, o.NewCI95[0], o.NewCI95[1], true)
		d.AxisBottom = float64(chartTop + len(d.Rows)*chartRowH)
		d.Height = d.AxisBottom + 8
		for _, t := range []float64{0, 0.25, 0.5, 0.75, 1} {
			d.Ticks = append(d.Ticks, chartTick{X: d.X0 + t*chartBarW, Label: fmt.Sprintf("%.0f%%", 100*t)})
		}
	}
	return reportTemplate.Execute(w, d)
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":        pct,
	"ci":         func(v [2]float64) string { return ci(v[0], v[1]) },
	"num":        num,
	"level":      levelWord,
	"upper":      func(s string) string { return strings.ToUpper(strings.ReplaceAll(s, "_", " ")) },
	"join":       strings.Join,
	"f":          func(x float64) string { return fmt.Sprintf("%.1f", x) },
	"sampleRows": sampleRows,
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Khabardar sample check: {{.R.Plausibility.Verdict}}</title>
<style>
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:#1d2327;background:#fff;margin:0}
main{max-width:860px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:1.5em;margin:0 0 4px}h2{font-size:1.15em;margin:28px 0 8px;border-bottom:1px solid #dcdcde;padding-bottom:4px}
.sub{color:#50575e;margin:0 0 16px}
.verdict{border-radius:6px;padding:12px 16px;margin:16px 0;border-left:6px solid}
.verdict strong{font-size:1.2em;letter-spacing:.04em}
.plausible{background:#edfaef;border-color:#00a32a}.suspicious{background:#fcf9e8;border-color:#dba617}.fabricated{background:#fcf0f1;border-color:#d63638}.too_few_to_judge{background:#f6f7f7;border-color:#646970}
.verdict ul{margin:6px 0 0;padding-left:20px}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.93em}
@media (max-width:480px){main{padding:16px 12px 32px}th,td{padding:4px 5px}}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #f0f0f1;vertical-align:top}
th{background:#f6f7f7}
th.n,td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
.lvl{font-weight:600;white-space:nowrap}
.lvl-fabricated{color:#b32d2e}.lvl-suspicious{color:#996800}.lvl-note{color:#2271b1}.lvl-ok{color:#007017}.lvl-too_few{color:#646970}
svg{max-width:100%;height:auto;font:12px system-ui,sans-serif}
.bar{fill:#2271b1}.bar.new{fill:#8c8f94}.whisker{stroke:#1d2327;stroke-width:1.5}.grid{stroke:#dcdcde}.axis{fill:#50575e}
.origin{background:#f0f6fc;border-radius:6px;padding:12px 16px;border-left:6px solid #2271b1}.origin p{margin:6px 0 0}
footer{margin-top:32px;color:#646970;font-size:.85em}
</style>
</head>
<body>
<main>
<h1>Is this sample real, and is it new?</h1>
<p class="sub">Khabardar sample check of {{join .R.Sample.Files ", "}}, {{.Generated}}. The sample was read on this computer; nothing in it was sent anywhere: lookups used blinded values the server cannot read.</p>

<div class="verdict {{.VerdictCSS}}">
<strong>Real? {{upper .R.Plausibility.Verdict}}</strong>
<ul>{{range .R.Plausibility.Reasons}}<li>{{.}}</li>{{end}}</ul>
</div>
{{with .R.Origin}}{{if or .LookedUp (eq .Verdict "no_listings_loaded")}}<div class="origin"><strong>New? {{upper .Verdict}}</strong><p>{{.Summary}}</p></div>{{end}}{{end}}

<h2>The sample</h2>
<div class="scroll"><table>
{{range sampleRows .R.Sample}}<tr><th>{{index . 0}}</th><td class="n">{{index . 1}}</td><th>{{index . 2}}</th><td class="n">{{index . 3}}</td></tr>
{{end}}
</table></div>
{{if .R.Sample.Rejected}}<p>Not identifiers: {{range $reason, $n := .R.Sample.Rejected}}{{$reason}} {{$n}}; {{end}}</p>{{end}}

{{with .R.Origin}}{{if .LookedUp}}
<h2>Found in known listings</h2>
<p>{{num .LookedUp}} of the sample's {{num .Distinct}} distinct identifiers were looked up. Bars show the share found in each listing; whiskers its 95% confidence interval.</p>
<svg role="img" aria-labelledby="chart-title" viewBox="0 0 {{f $.Width}} {{f $.Height}}" width="{{f $.Width}}" height="{{f $.Height}}">
<title id="chart-title">Share of the sample found in each known listing, with 95% intervals</title>
{{range $.Ticks}}<line class="grid" x1="{{f .X}}" x2="{{f .X}}" y1="18" y2="{{f $.AxisBottom}}"/><text class="axis" x="{{f .X}}" y="12" text-anchor="middle">{{.Label}}</text>
{{end}}{{range $.Rows}}<g class="row"><title>{{if .Title}}{{.Title}}: {{end}}{{.Text}}</title>
<text x="{{f $.LabelX}}" y="{{f .MidY}}" dy="4" text-anchor="end">{{.Label}}</text>
<rect class="bar{{if .New}} new{{end}}" x="{{f $.X0}}" y="{{f .Y}}" width="{{f .BarW}}" height="18"/>
<line class="whisker" x1="{{f .Lo}}" x2="{{f .Hi}}" y1="{{f .MidY}}" y2="{{f .MidY}}"/>
<line class="whisker" x1="{{f .Lo}}" x2="{{f .Lo}}" y1="{{f .CapTop}}" y2="{{f .CapBottom}}"/>
<line class="whisker" x1="{{f .Hi}}" x2="{{f .Hi}}" y1="{{f .CapTop}}" y2="{{f .CapBottom}}"/>
<text x="{{f $.TextX}}" y="{{f .MidY}}" dy="4">{{.Text}}</text></g>
{{end}}</svg>
{{if $.Omitted}}<p>{{$.Omitted}} more listings are in the table below.</p>{{end}}
<div class="scroll"><table>
<tr><th>listing</th><th>title</th><th class="n">matched</th><th class="n">share</th><th class="n">95% CI</th></tr>
{{range .Listings}}<tr><td>{{.ID}}</td><td>{{.Title}}</td><td class="n">{{num .Matched}}</td><td class="n">{{pct .Share}}</td><td class="n">{{ci .CI95}}</td></tr>
{{end}}<tr><td colspan="2"><em>in no known listing</em></td><td class="n">{{num .New}}</td><td class="n">{{pct .NewShare}}</td><td class="n">{{ci .NewCI95}}</td></tr>
</table></div>
{{end}}{{else}}
<h2>Found in known listings</h2>
<p>Not looked up (offline check).</p>
{{end}}

<h2>Every test</h2>
<div class="scroll"><table>
<tr><th>test</th><th class="n">values</th><th>result</th><th>what it found</th></tr>
{{range .R.Plausibility.Findings}}<tr><td>{{.Test}}</td><td class="n">{{num .N}}</td><td class="lvl lvl-{{.Level}}">{{level .Level}}</td><td>{{.Reason}}</td></tr>
{{end}}</table></div>
{{range .R.Notes}}<p><strong>Note:</strong> {{.}}</p>{{end}}

<footer>
{{with .R.Server}}Looked up at {{.URL}} with server key {{.KeyID}} (fingerprint {{.Fingerprint}}); every answer was proven to use that key.<br>{{end}}
Province shares: Pakistan Bureau of Statistics, 2023 census. A "plausible" verdict means no test found a sign of made-up data, not that the data is genuine; "not found" means only that Khabardar has not been given it.
</footer>
</main>
</body>
</html>
`))
