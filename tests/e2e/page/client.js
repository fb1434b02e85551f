// Walks the API from a browser page: register, login, FormData upload, every analysis, an async job polled at its
// Location, a download, a 413, a 429 and logout. Each step is recorded in window.walk; window.walkDone ends it.
"use strict";

const api = new URLSearchParams(location.search).get("api");
const uploadLimitMb = Number(new URLSearchParams(location.search).get("max_upload_mb") || "1");
window.walk = [];
window.walkDone = false;

function record(name, ok, detail) {
  window.walk.push({ name, ok, detail });
  const li = document.createElement("li");
  li.textContent = `${ok ? "ok" : "FAILED"} ${name}: ${JSON.stringify(detail)}`;
  document.getElementById("steps").appendChild(li);
}

async function call(method, path, { token, json, body, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  const response = await fetch(api + path, init);
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : await response.blob();
  return { status: response.status, headers: response.headers, data };
}

function expect(name, condition, detail) {
  record(name, Boolean(condition), detail);
  if (!condition) throw new Error(`${name} failed: ${JSON.stringify(detail)}`);
}

async function walkTheApi() {
  const username = `browser_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const password = "a browser passphrase";
  let r = await call("POST", "/api/auth/register", { json: { username, email: `${username}@example.com`, password } });
  expect("register", r.status === 201 && r.data.token, { status: r.status });

  r = await call("POST", "/api/auth/login", { json: { identifier: username, password } });
  expect("login", r.status === 200 && r.data.token, { status: r.status });
  const token = r.data.token;

  const sample = await (await fetch("sample_sales.csv")).blob();
  const form = new FormData();
  form.append("file", sample, "sample_sales.csv");
  r = await call("POST", "/api/upload", { token, body: form });
  expect("FormData upload", r.status === 201 && r.data.file_id, { status: r.status, rows: r.data.rows });
  const fileId = String(r.data.file_id); // as a router parameter hands it over: a string

  const analyses = {};
  for (const type of ["cleaning", "rfm", "basket", "statistical"]) {
    r = await call("POST", "/api/process", { token, json: { file_id: fileId, type, params: {} } });
    expect(`analysis ${type}`, r.status === 200 && r.data.status === "finished", { status: r.status });
    analyses[type] = r.data;
    r = await call("GET", `/api/analyses/${analyses[type].analysis_id}/results?per_page=5`, { token });
    expect(`results ${type}`, r.status === 200 && Array.isArray(r.data.items), { status: r.status, total: r.data.total });
  }

  r = await call("POST", "/api/process", { token, headers: { Prefer: "respond-async" },
                                            json: { file_id: fileId, type: "rfm", params: { n_clusters: 3 } } });
  const location = r.headers.get("Location");
  expect("async job accepted", r.status === 202 && location && r.headers.get("Preference-Applied") === "respond-async",
         { status: r.status, location, preferenceApplied: r.headers.get("Preference-Applied") });
  let job = r.data;
  for (let poll = 0; poll < 240 && ["queued", "running"].includes(job.status); poll += 1) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    job = (await call("GET", location, { token })).data;
  }
  expect("async job polled at its Location", job.status === "finished", { status: job.status, polls: job.progress });

  r = await call("GET", `/api/analyses/${analyses.rfm.analysis_id}/download?format=csv`, { token });
  const disposition = r.headers.get("Content-Disposition") || "";
  const filename = (disposition.match(/filename="?([^";]+)"?/) || [])[1];
  expect("download with its name", r.status === 200 && filename && r.data.size > 0,
         { status: r.status, filename, bytes: r.data.size });

  r = await call("GET", "/api/analyses/undefined/download", { token });
  expect("a 404 stays a readable 404", r.status === 404 && r.data.type, { status: r.status, type: r.data.type });

  const big = new Blob([new Uint8Array((uploadLimitMb + 1) * 1024 * 1024).fill(97)], { type: "text/csv" });
  const bigForm = new FormData();
  bigForm.append("file", big, "big.csv");
  r = await call("POST", "/api/upload", { token, body: bigForm });
  expect("413 readable", r.status === 413 && r.data.type === "/problems/too-large", { status: r.status, type: r.data.type });

  let limited = null;
  for (let attempt = 0; attempt < 30 && !limited; attempt += 1) {
    r = await call("POST", "/api/auth/login", { json: { identifier: username, password: "not the password" } });
    if (r.status === 429) limited = r;
  }
  expect("429 with Retry-After", limited && Number(limited.headers.get("Retry-After")) > 0 &&
         limited.data.type === "/problems/rate-limited",
         limited && { status: limited.status, retryAfter: limited.headers.get("Retry-After"), type: limited.data.type });

  r = await call("POST", "/api/auth/logout", { token });
  expect("logout", r.status === 200, { status: r.status });
  r = await call("GET", "/api/auth/me", { token });
  expect("token refused after logout", r.status === 401, { status: r.status });
}

walkTheApi()
  .catch((error) => record("walk", false, String(error)))
  .finally(() => { window.walkDone = true; });
