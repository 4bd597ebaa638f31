// Package reconcile keeps devices equal to the intent: it plans, applies and
// records. Its sub-packages each own one step: plan computes the Plan value from
// desired and current configuration; views elsewhere print it.
package reconcile
