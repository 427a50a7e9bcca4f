// Labels regular expressions with Go's own parser, the way Istio compiles EnvoyFilter proxyVersion
// (regexp.Compile). Reads a JSON array of strings on stdin, writes {"go": <version>, "cases": [{"re","ok","err"}...]}
// on stdout, one case per line. Regenerates test/fixtures/re2-go.json (read by test/re2.test.ts):
//
//	node scripts/re2-cases.js | go run scripts/re2-oracle.go > test/fixtures/re2-go.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"runtime"
)

type result struct {
	Re  string `json:"re"`
	Ok  bool   `json:"ok"`
	Err string `json:"err,omitempty"`
}

func main() {
	var cases []string
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		panic(err)
	}
	out := struct {
		Go    string   `json:"go"`
		Cases []result `json:"cases"`
	}{Go: runtime.Version()}
	for _, c := range cases {
		_, err := regexp.Compile(c)
		r := result{Re: c, Ok: err == nil}
		if err != nil {
			r.Err = err.Error()
		}
		out.Cases = append(out.Cases, r)
	}
	// one case per line, so a regenerated table diffs line by line
	goVersion, _ := json.Marshal(out.Go)
	fmt.Printf("{\"go\": %s, \"cases\": [\n", goVersion)
	for i, c := range out.Cases {
		line, err := json.Marshal(c)
		if err != nil {
			panic(err)
		}
		sep := ","
		if i == len(out.Cases)-1 {
			sep = ""
		}
		fmt.Printf("  %s%s\n", line, sep)
	}
	fmt.Println("]}")
}
