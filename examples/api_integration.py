#!/usr/bin/env python3
"""An integration with the Partner Center API v1, end to end, with nothing but the standard
library: sign in, invite a customer, list customers, read the account check of one, allocate
funds with an Idempotency-Key and retry it (the retry changes nothing), and read the records.

    python examples/api_integration.py --base-url https://partner.example.com \\
        --partner acme --member admin --password '…'          # or --api-key pck_…

Each step prints one line, ``step: key=value …``, so its output can be read by a person and
checked by a program (tests/test_api_example.py runs it against a live server in CI). It
exits with status 1 and the problem document (RFC 9457) of the first unexpected answer.
"""
import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid


class Problem(Exception):
    def __init__(self, status, body):
        super().__init__(f"{status} {body.get('code', '')}: {body.get('detail', '')}")
        self.status, self.body = status, body


class Client:
    def __init__(self, base_url: str, language: str = "en"):
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise SystemExit("--base-url must be an http:// or https:// address")
        self.base = base_url.rstrip("/") + "/api/v1"
        self.token = None
        self.language = language

    def call(self, method, path, *, query=None, body=None, headers=None):
        url = self.base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http(s), checked above
        request.add_header("Accept", "application/json")
        request.add_header("Accept-Language", self.language)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - http(s) only
                return response.status, dict(response.headers), json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise Problem(error.code, json.loads(error.read() or b"{}")) from None

    def sign_in(self, *, partner=None, member=None, password=None, api_key=None):
        credentials = {"api_key": api_key} if api_key else {
            "partner_account": partner, "member_name": member, "password": password}
        _status, _headers, body = self.call("POST", "/tokens", body=credentials)
        self.token = body["token"]
        return body


def show(step: str, **values) -> None:
    print(f"{step}: " + " ".join(f"{key}={value}" for key, value in values.items()), flush=True)


def run(client: Client, args) -> None:
    signed_in = client.sign_in(partner=args.partner, member=args.member, password=args.password,
                               api_key=args.api_key)
    show("token", expires_at=signed_in["expires_at"])

    # 1. Invite a customer by e-mail (a retry with the same key would not send a second one).
    _s, _h, invitation = client.call("POST", "/invitations", body={"email": args.invite, "type": "reseller"},
                                     headers={"Idempotency-Key": str(uuid.uuid4())})
    show("invitation", id=invitation["id"], status=invitation["status"], expires_at=invitation["expires_at"])

    # 2. The customer list: reseller customers, first page (follow next_cursor for more).
    _s, _h, page = client.call("GET", "/customers", query={"type": "reseller", "limit": 20})
    show("customers", listed=len(page["results"]), more=page["next_cursor"] is not None)
    if not page["results"]:
        show("done", reason="no reseller customer to continue with")
        return
    customer = page["results"][0]

    # 3. Why can (or can't) this customer be unbound: every check, who acts, when it clears.
    _s, _h, check = client.call("GET", f"/customers/{customer['id']}/checks", query={"action": "unbind"})
    failed = [c for c in check["checks"] if not c["passed"]]
    show("check", customer=customer["account_name"], passed=check["passed"], checks=len(check["checks"]),
         failed=",".join(c["code"] for c in failed) or "-")
    for c in failed:
        show("  failed", code=c["code"], who_acts=",".join(c["who_acts"]) or "nobody",
             clears_at=c["clears_at"] or "-")

    # 4. Allocate funds with an Idempotency-Key, then retry exactly the same request, as a client
    #    would after a timeout: the retry gets the first answer back and moves no money.
    key = str(uuid.uuid4())
    path = f"/customers/{customer['id']}/funds/allocate"
    body = {"amount": args.amount, "reason": "example integration"}
    status, _h, first = client.call("POST", path, body=body, headers={"Idempotency-Key": key})
    show("allocate", status=status, entry=first["id"], amount=first["amount"],
         partner_balance_after=first["partner_balance_after"])
    status, headers, again = client.call("POST", path, body=body, headers={"Idempotency-Key": key})
    replayed = {k.lower(): v for k, v in headers.items()}.get("idempotent-replayed", "false")
    show("retry", status=status, entry=again["id"], replayed=replayed, same=again == first)

    # 5. The operation records of this customer, newest first.
    _s, _h, records = client.call("GET", "/records", query={"customer": customer["account_name"], "limit": 10})
    show("records", listed=len(records["results"]), events=",".join(r["event"] for r in records["results"]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--partner")
    parser.add_argument("--member")
    parser.add_argument("--password")
    parser.add_argument("--api-key")
    parser.add_argument("--invite", default=f"example-{uuid.uuid4().hex[:8]}@example.com",
                        help="the e-mail to invite")
    parser.add_argument("--amount", default="10.00", help="the amount to allocate")
    args = parser.parse_args(argv)
    if not args.api_key and not (args.partner and args.member and args.password):
        parser.error("give --api-key, or --partner, --member and --password")
    try:
        run(Client(args.base_url), args)
    except Problem as problem:
        print(f"error: {problem}", file=sys.stderr)
        print(json.dumps(problem.body, ensure_ascii=False, indent=2), file=sys.stderr)
        return 1
    show("done", ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
