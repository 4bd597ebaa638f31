// netrecon status page: live updates and operator actions. The page is
// whole without this file; with it, the main part is fetched again every few
// seconds (while the tab is visible) and swapped when it changed, and the
// action forms post to the API with the operator's token.
(function () {
	'use strict';
	var store = window.sessionStorage;
	var main = document.getElementById('main');
	var notice = document.getElementById('notice');
	var every = 2000;
	var shown = main.innerHTML;

	function token() { return store.getItem('netrecon-token') || ''; }

	function authorized(h) {
		var t = token();
		if (t) { h.Authorization = 'Bearer ' + t; }
		return h;
	}

	function say(text, isError) {
		notice.textContent = text;
		notice.className = isError ? 'error' : '';
	}

	// typing says whether the operator is filling in a form of main: a swap
	// would throw away what they typed.
	function typing() {
		var inputs = main.querySelectorAll('input[type="text"]');
		for (var i = 0; i < inputs.length; i++) {
			if (inputs[i].value !== '') { return true; }
		}
		return false;
	}

	function swap(html, title) {
		var focused = document.activeElement && main.contains(document.activeElement) ? document.activeElement.id : '';
		main.innerHTML = html;
		shown = main.innerHTML;
		if (title) { document.title = title; }
		if (focused) {
			var again = document.getElementById(focused);
			if (again) { again.focus(); }
		}
	}

	function refresh(force) {
		if (!force && (document.hidden || typing())) { return Promise.resolve(); }
		return fetch(location.pathname + location.search, { headers: authorized({ Accept: 'text/html' }), cache: 'no-store' })
			.then(function (resp) { return resp.text(); })
			.then(function (text) {
				var doc = new DOMParser().parseFromString(text, 'text/html');
				var next = doc.getElementById('main');
				if (next && next.innerHTML !== shown) { swap(next.innerHTML, doc.title); }
			})
			.catch(function (err) { say('Could not reach the daemon: ' + err.message, true); });
	}

	function poll() {
		refresh(false).then(function () { window.setTimeout(poll, every); });
	}

	// body is the api.ActionRequest of an action form.
	function body(form) {
		var req = { reason: form.elements.reason.value.trim() };
		var as = store.getItem('netrecon-as');
		if (as) { req.as = as; }
		var field = form.querySelector('input[type="hidden"]');
		if (field) {
			if (field.name === 'alarm') { req.alarm = parseInt(field.value, 10); }
			else if (field.name === 'devices') { req.devices = [field.value]; }
			else { req[field.name] = field.value; }
		}
		return req;
	}

	document.addEventListener('submit', function (ev) {
		var form = ev.target;
		if (form.id === 'token-form') {
			ev.preventDefault();
			store.setItem('netrecon-token', form.elements.token.value.trim());
			store.setItem('netrecon-as', form.elements.as.value.trim());
			form.elements.token.value = '';
			say('Token kept for this tab.', false);
			refresh(true);
			return;
		}
		var isTask = form.classList.contains('mark-done');
		if (!isTask && !form.classList.contains('action')) { return; }
		ev.preventDefault();
		if (!token()) {
			say('Actions need a write token: enter it under Operator token.', true);
			var box = document.getElementById('token-box');
			box.open = true;
			document.getElementById('token').focus();
			return;
		}
		if (isTask) {
			var service = form.getAttribute('data-service'), step = form.getAttribute('data-step');
			var done = { reference: form.elements.reference.value.trim() };
			var who = store.getItem('netrecon-as');
			if (who) { done.as = who; }
			post('/api/v1/tasks/' + encodeURIComponent(service) + '/' + encodeURIComponent(step) + '/done', done, form,
				service + ' ' + step, function (doc) { return 'marked done by ' + doc.done_by + '.'; });
			return;
		}
		var action = form.getAttribute('data-action');
		post('/api/v1/actions/' + encodeURIComponent(action), body(form), form, action,
			function (doc) { return 'done (action #' + doc.id + (doc.pass ? ', pass ' + doc.pass : '') + ').'; });
	});

	// post sends req to the API with the token; on success it empties form,
	// says what was done and shows the page again.
	function post(url, req, form, what, said) {
		fetch(url, {
			method: 'POST',
			headers: authorized({ 'Content-Type': 'application/json' }),
			body: JSON.stringify(req)
		}).then(function (resp) {
			return resp.json().then(function (doc) { return { ok: resp.ok, doc: doc }; });
		}).then(function (r) {
			if (!r.ok) {
				say(what + ' refused: ' + (r.doc.error || 'unknown error'), true);
				return;
			}
			form.reset();
			say(what + ' ' + said(r.doc), false);
			return refresh(true);
		}).catch(function (err) { say(what + ' failed: ' + err.message, true); });
	}

	document.getElementById('token-forget').addEventListener('click', function () {
		store.removeItem('netrecon-token');
		store.removeItem('netrecon-as');
		say('Token forgotten.', false);
	});

	var as = document.getElementById('as');
	as.value = store.getItem('netrecon-as') || '';
	// A page refused for want of a token loads at once with the kept one.
	if (token() && main.querySelector('[data-refused]')) { refresh(true); }
	document.addEventListener('visibilitychange', function () { if (!document.hidden) { refresh(false); } });
	window.setTimeout(poll, every);
})();
