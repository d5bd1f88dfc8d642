package kb

import (
	"embed"
	"sync"
)

//go:embed sample/faq.yaml
var sampleFS embed.FS

var sampleOnce = sync.OnceValue(func() *Library {
	lib, err := Load(sampleFS, "sample/faq.yaml")
	if err != nil {
		panic("kb: bundled sample FAQ is invalid: " + err.Error()) // caught by TestSample
	}
	return lib
})

// Sample returns the bundled sample FAQ of the fictional 云朵家电 (Cloudy Home Appliances), in zh-CN
// and en with the same ids. The library is shared and must not be modified.
func Sample() *Library { return sampleOnce() }
