package daemon

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/netrecon/netrecon/lab/browser"
)

// see runs one browser action, failing the test after a bound.
func see[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	return see(t, ctx, "text of "+css, chromedp.Text(chromedp.CSS(css)))
}

func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not show %q:\n%s", what, w, got)
		}
	}
}

// noHorizontalScroll checks the page at a phone's width: nothing wider than
// the screen (a wide table scrolls in its own region).
func noHorizontalScroll(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	see(t, ctx, "phone viewport", chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile))
	see(t, ctx, "load "+url, chromedp.Navigate(url))
	widths := see(t, ctx, "widths", chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`))
	if widths[0] > widths[1] {
		t.Errorf("%s at 375 px: the page is %d px wide: it scrolls sideways", url, widths[0])
	}
	see(t, ctx, "desktop viewport", chromedp.EmulateViewport(1200, 900))
}

// The status page as a person sees it in Chromium, on a daemon over netsim
// with a real hand edit (an attacker's markup in a description) reported as
// drift: the node's path and values on the device page, an alarm
// acknowledged on the alarms page by keyboard and gone from an overview
// open in another window without a reload, the runs and their changes, and
// no sideways scroll on a phone. Screenshots go to labtest.Artifacts.
func TestStatusPageInChromium(t *testing.T) {
	overview := browser.Start(t, 1200, 900)
	_, d, path := driftedLab(t, true)
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(srv.Close)
	dev, _ := d.DeviceDoc("pe3-sin")
	owner, desired := dev.Nodes[0].Owners[0], *dev.Nodes[0].Desired
	alarms := d.StatusDoc().Alarms
	if len(alarms) != 1 || alarms[0].Device != "pe3-sin" {
		t.Fatalf("alarms: %+v", alarms)
	}
	alarm := fmt.Sprintf("alarm-%d", alarms[0].ID)

	// The overview names the drift, and stays open in its window.
	see(t, overview, "load the overview", chromedp.Navigate(srv.URL+"/"))
	mustContain(t, "the overview's alarm", text(t, overview, "#"+alarm), "drift", "pe3-sin", string(path))
	mustContain(t, "the overview", text(t, overview, "main"), "Not in sync", "Devices not in sync")
	see(t, overview, "mark the page", chromedp.Evaluate[chromedp.Void](`window.__sameDocument = true`))
	browser.Screenshot(t, "status-overview.png", see(t, overview, "screenshot", chromedp.FullScreenshot(100)))

	// A second window, as a second operator's.
	win, cancel := chromedp.NewContext(overview, chromedp.WithNewWindow(true))
	t.Cleanup(cancel)
	if err := chromedp.Do(win); err != nil {
		t.Fatalf("open a second window: %v", err)
	}

	// The device page: the drifted node's path, owner, live and desired values;
	// the attacker's markup shown as text, never run.
	see(t, win, "load the device page", chromedp.Navigate(srv.URL+"/devices/pe3-sin"))
	mustContain(t, "the device page's nodes", text(t, win, "table.nodes"), string(path), owner, attackerText, desired)
	if ran := see(t, win, "attacker's script", chromedp.Evaluate[bool](`window.__pwned !== undefined || document.querySelector('main img') !== null`)); ran {
		t.Error("the attacker's markup ran on the device page")
	}
	browser.Screenshot(t, "status-device.png", see(t, win, "screenshot", chromedp.FullScreenshot(100)))
	noHorizontalScroll(t, win, srv.URL+"/devices/pe3-sin")
	noHorizontalScroll(t, win, srv.URL+"/")

	// The alarms page: the token for this tab, then Tab to the acknowledge
	// button, a reason, Enter.
	see(t, win, "load the alarms page", chromedp.Navigate(srv.URL+"/alarms"))
	see(t, win, "enter the token", chromedp.Steps(
		chromedp.Click(chromedp.CSS("#token-box summary")),
		chromedp.SendKeys(chromedp.ID("token"), opsToken),
		chromedp.SendKeys(chromedp.ID("as"), "alice"),
		chromedp.Click(chromedp.CSS(`#token-form button[type="submit"]`))))
	mustContain(t, "the notice", text(t, win, "#notice"), "Token kept")
	see(t, win, "close the token box", chromedp.Evaluate[chromedp.Void](`document.getElementById('token-box').open = false; document.activeElement.blur()`))
	button := "ack-" + strings.TrimPrefix(alarm, "alarm-")
	reached := false
	for range 60 {
		see(t, win, "Tab", chromedp.KeyEvent(kb.Tab))
		if id := see(t, win, "focused", chromedp.Evaluate[string](`document.activeElement.id`)); id == button {
			reached = true
			break
		}
	}
	if !reached {
		t.Fatalf("Tab never reached the acknowledge button #%s", button)
	}
	if outline := see(t, win, "focus style", chromedp.Evaluate[string](`getComputedStyle(document.activeElement).outlineStyle`)); outline == "none" {
		t.Error("the focused acknowledge button shows no focus outline")
	}
	see(t, win, "acknowledge", chromedp.Steps(
		chromedp.SendKeys(chromedp.ID("reason-"+button), "in hand: checking pe3-sin"),
		chromedp.Focus(chromedp.ID(button)),
		chromedp.KeyEvent(kb.Enter)))
	see(t, win, "acknowledged", chromedp.Poll[chromedp.Void](fmt.Sprintf(
		`document.getElementById(%q) && document.getElementById(%q).textContent.includes('by alice')`, alarm, alarm)))

	// The overview, untouched since, has dropped the alarm by itself.
	see(t, overview, "the overview drops the alarm", chromedp.WaitNotPresent(chromedp.ID(alarm)))
	if same := see(t, overview, "same document", chromedp.Evaluate[bool](`window.__sameDocument === true`)); !same {
		t.Error("the overview was reloaded: the update should come without one")
	}
	mustContain(t, "the overview", text(t, overview, "main"), "1 acknowledged alarm(s) in hand")

	// The runs page lists the first pass's run with its devices; the run's
	// page shows each device's changes and timings.
	runs, err := d.RunsDoc(context.Background(), 0, 50)
	if err != nil || len(runs.Runs) == 0 {
		t.Fatalf("runs: %v %+v", err, runs)
	}
	first := runs.Runs[len(runs.Runs)-1]
	full, _, err := d.RunDoc(context.Background(), first.ID)
	if err != nil || len(full.Devices) == 0 || len(full.Devices[0].Changes) == 0 {
		t.Fatalf("run %d: %v %+v", first.ID, err, full)
	}
	see(t, win, "load the runs page", chromedp.Navigate(srv.URL+"/runs"))
	list := text(t, win, "table.runs")
	mustContain(t, "the runs page", list, fmt.Sprintf("Run %d", first.ID), first.Outcome)
	for _, rd := range first.Devices {
		mustContain(t, "the runs page", list, rd.Device+" ("+rd.Phase)
	}
	browser.Screenshot(t, "status-runs.png", see(t, win, "screenshot", chromedp.FullScreenshot(100)))
	noHorizontalScroll(t, win, srv.URL+"/runs")
	see(t, win, "open the run", chromedp.Steps(
		chromedp.Navigate(srv.URL+"/runs"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/runs/%d"]`, first.ID))),
		chromedp.WaitVisible(chromedp.CSS("table.changes"))))
	mustContain(t, "the run's page", text(t, win, "main"), full.Devices[0].Device, full.Devices[0].Changes[0].Path, "Timings")
}

// Without open reads a browser's first request has no token: the page asks
// for one, keeps it in the tab and loads with it, without a reload, and an
// action without a write token is refused with the API's words.
func TestStatusPageAsksForAToken(t *testing.T) {
	ctx := browser.Start(t, 1200, 900)
	_, d, path := driftedLab(t, false)
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(srv.Close)
	see(t, ctx, "load the device page", chromedp.Navigate(srv.URL+"/devices/pe3-sin"))
	mustContain(t, "the refusal", text(t, ctx, "main"), "Token needed", "missing or wrong bearer token")
	if shown := see(t, ctx, "the device", chromedp.Evaluate[bool](`document.querySelector('table.nodes') !== null`)); shown {
		t.Fatal("the device is shown without a token")
	}
	// A read token first (the trigger token of api.token_file reads too).
	see(t, ctx, "enter the token", chromedp.Steps(
		chromedp.Click(chromedp.CSS("#token-box summary")),
		chromedp.SendKeys(chromedp.ID("token"), testToken),
		chromedp.Click(chromedp.CSS(`#token-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.nodes"))))
	mustContain(t, "the device page", text(t, ctx, "table.nodes"), string(path))
	see(t, ctx, "pause without write scope", chromedp.Steps(
		chromedp.SendKeys(chromedp.ID("reason-pause"), "RMA"),
		chromedp.Click(chromedp.ID("pause")),
		chromedp.Poll[chromedp.Void](`document.getElementById('notice').textContent.includes('refused')`)))
	mustContain(t, "the notice", text(t, ctx, "#notice"), "pause refused", "has scope trigger; this needs write")
	if dv, _ := d.DeviceDoc("pe3-sin"); dv.Paused != nil {
		t.Errorf("paused with a trigger token: %+v", dv.Paused)
	}
}

// A manual step marked done in Chromium: on /tasks, the token and name for
// the tab, a reference typed into the open step's form, Mark done; the page
// shows it done by that person without a reload, and the value to type is
// one selectable code element.
func TestStatusPageInChromiumMarksAStepDone(t *testing.T) {
	ctx := browser.Start(t, 1200, 900)
	_, d := manualStepLab(t)
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(srv.Close)
	task := "#task-acme-inet-jpnic-registration"

	see(t, ctx, "load /tasks", chromedp.Navigate(srv.URL+"/tasks"))
	mustContain(t, "the open step", text(t, ctx, task), "open", "ACME-INET", "198.18.0.0/28, 198.18.1.0/28")
	if sel := see(t, ctx, "copyable value", chromedp.Evaluate[string](
		`getComputedStyle(document.querySelector('`+task+` code.copy')).userSelect`)); sel != "all" {
		t.Errorf("a value to type selects %q on a click, want all", sel)
	}
	see(t, ctx, "mark the page", chromedp.Evaluate[chromedp.Void](`window.__sameDocument = true`))
	see(t, ctx, "enter the token", chromedp.Steps(
		chromedp.Click(chromedp.CSS("#token-box summary")),
		chromedp.SendKeys(chromedp.ID("token"), opsToken),
		chromedp.SendKeys(chromedp.ID("as"), "alice"),
		chromedp.Click(chromedp.CSS(`#token-form button[type="submit"]`))))
	see(t, ctx, "mark done", chromedp.Steps(
		chromedp.SendKeys(chromedp.ID("ref-acme-inet-jpnic-registration"), "JPNIC-R-20261202-0001"),
		chromedp.Click(chromedp.ID("done-acme-inet-jpnic-registration"))))
	see(t, ctx, "shown done", chromedp.Poll[chromedp.Void](
		`document.querySelector('`+task+`.task-done') !== null && document.querySelector('`+task+`').textContent.includes('by alice')`))
	mustContain(t, "the step done", text(t, ctx, task), "JPNIC-R-20261202-0001")
	mustContain(t, "the notice", text(t, ctx, "#notice"), "marked done by alice")
	if same := see(t, ctx, "same document", chromedp.Evaluate[bool](`window.__sameDocument === true`)); !same {
		t.Error("/tasks was reloaded: the update should come without one")
	}
	browser.Screenshot(t, "status-tasks.png", see(t, ctx, "screenshot", chromedp.Screenshot(chromedp.CSS(task))))
	noHorizontalScroll(t, ctx, srv.URL+"/tasks")
}
