package harness

import (
	"encoding/json"
	"testing"
)

// FuzzDecode: a result file of any content gives a result or an error,
// never a panic, and whatever decodes renders.
func FuzzDecode(f *testing.F) {
	r := sample()
	b, _ := json.Marshal(r)
	f.Add(b)
	f.Add([]byte(`{"scenario":"x","title":"t","mode":"quick","command":"c","machine":{"cores":1},"runs":[{"group":"g","variant":"v","pair":1,"metrics":{"m":1}}],"summary":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			return
		}
		Render([]Result{r}, "results")
		Summarize(r.Runs, "v", "m")
	})
}
