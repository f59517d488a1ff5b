#!/usr/bin/env python3
"""Worst case of the analytics `year` summary: one activity in every hour of
two years (so the summary reads 17,520 hourly counter rows), imported through
POST /api/activities/bulk with a service key, then 50 timed summaries without
and 50 with forecast=true, alternated.

Start a release hub first, with the service key below configured:

    KEY=hubk_benchkey
    HUB__STORAGE__DATA_DIR=/tmp/an-hub HUB__SERVER__PORT=18282 \
    HUB__AUTH__API_KEYS="sha256:$(printf %s $KEY | sha256sum | cut -d' ' -f1)" \
    HUB__RATE_LIMIT__ENABLED=false target/release/aiclone-hub &
    python3 bench/scripts/analytics_worst_case.py
"""
import json, time, urllib.request, datetime
B="http://127.0.0.1:18282"; KEY="hubk_benchkey"
def req(method, path, body=None, token=None, key=None):
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(B+path, data=data, method=method)
    if data: r.add_header("content-type","application/json")
    if token: r.add_header("authorization","Bearer "+token)
    if key: r.add_header("x-api-key", key)
    with urllib.request.urlopen(r) as resp: return json.loads(resp.read() or b"null")
u = req("POST","/api/auth/register",{"email":"an@example.com","password":"correct horse battery"})["user"]["id"]
tok = req("POST","/api/auth/login",{"email":"an@example.com","password":"correct horse battery"})["access_token"]
now = datetime.datetime.now(datetime.timezone.utc).replace(minute=0, second=0, microsecond=0)
types = ["prospect_added","research_completed","outreach_sent","meeting_booked","content_published","automation_triggered","task_completed"]
acts=[]
for h in range(2*365*24):
    t = now - datetime.timedelta(hours=h)
    acts.append({"type": types[h % len(types)], "title": "x", "created_at": t.isoformat().replace("+00:00","Z"), "metadata": {"kind":"research"}})
t0=time.time()
for i in range(0, len(acts), 500):
    req("POST","/api/activities/bulk",{"user_id":u,"activities":acts[i:i+500]}, key=KEY)
print("imported", len(acts), "in", round(time.time()-t0,1), "s")
# Without and with forecast=true, alternated; with two years of data every
# metric has a fitted forecast, so this also times the model fits.
lat={"": [], "&forecast=true": []}
for _ in range(50):
    for q in lat:
        t=time.perf_counter(); s=req("GET","/api/analytics/summary?time_range=year"+q, token=tok); lat[q].append((time.perf_counter()-t)*1000)
for q, l in lat.items():
    l.sort()
    print("year summary%s over HTTP: p50 %.2f ms p99 %.2f ms max %.2f ms; buckets %d; total prospects %s" % (q, l[25], l[49], l[-1], len(s["metrics"][0]["data_points"]), s["metrics"][0]["total"]))
print("forecast methods:", sorted({m["forecast"]["method"] for m in s["metrics"]}))
