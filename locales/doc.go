// Package locales holds kefu's zh-CN (default) and en message catalogs, embedded in the binary.
//
// Every user-facing string comes from here. A catalog is a flat map of keys to text/template strings
// (zh-CN.yaml, en.yaml); Catalog.T renders one, falling back to zh-CN, then to the key itself.
package locales
