// Package githubtest is a fake of the part of the GitHub REST API netrecon
// uses (a pull request's issue comments, pull requests by head branch), for
// the tests of forge/github and of the packages that open pull requests
// through it (orders). It behaves as github.com does for those endpoints:
// bearer tokens, the API version header, per_page/page with Link headers,
// 201/422/404 answers. It imports nothing of netrecon, so that
// forge/github's own tests can use it.
package githubtest
