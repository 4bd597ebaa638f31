package main

import "github.com/spf13/cobra"

// commands lists the verbs. Each verb's constructor lives in its own file.
func commands(a *app) []*cobra.Command {
	return append([]*cobra.Command{
		newValidateCmd(a),
		newRenderCmd(a),
		newPlanCmd(a),
		newApplyCmd(a),
		newHistoryCmd(a),
		newDemoCmd(a),
		newServeCmd(a),
		newCommentCmd(a),
		newHostkeysCmd(a),
		newSchemasCmd(a),
		newSimCmd(a),
		newCacheCmd(a),
		newVersionCmd(a),
		newEvaluateCmd(a),
		newStatusCmd(a),
		newDevicesCmd(a),
		newServicesCmd(a),
		newTasksCmd(a),
		newIRRCmd(a),
	}, newActionCmds(a)...)
}
