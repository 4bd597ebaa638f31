// Package configtree is netrecon's model of device configuration: an ordered tree
// of XML elements with YANG-style paths, list keys and owners.
//
// Every node records the services (owners) that render it. Merging the fragments
// of many services yields one desired tree per device, where a node rendered
// identically by two services is shared and a leaf rendered with two values is a
// conflict. Diff compares two trees and yields ordered changes; it deletes only
// nodes that have owners in the "from" tree, so configuration that netrecon does
// not own (a human's, another tool's) is never planned away.
package configtree
