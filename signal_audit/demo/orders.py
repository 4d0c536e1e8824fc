"""The demo shop's backend orders: the source of truth the audit compares the platforms against.

The export is realistic on purpose: plaintext PII in the varied forms customers type it, and
created_at written with several UTC offsets (the instant always falls on the intended UTC day).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from signal_audit.demo import ids
from signal_audit.demo.profiles import WEB_PATHS, ShopConfig
from signal_audit_core import pii

COUNTED_STATUSES = ("paid", "fulfilled", "refunded", "partially_refunded")
_COUNTED_WEIGHTS = (0.50, 0.38, 0.06, 0.06)
_SALES_CHANNEL = {"web_account": "web", "web_guest": "web", "app": "app", "pos": "pos"}
_CHECKOUT_TYPE = {"web_account": "account", "web_guest": "guest", "app": "account", "pos": ""}
_UTC = dt.UTC

# (display name, ascii form for the email address)
_FIRST = {
    "US": (("Jane", "jane"), ("John", "john"), ("Maria", "maria"), ("David", "david"),
           ("Aisha", "aisha"), ("Kevin", "kevin"), ("Emily", "emily"), ("Luis", "luis"),
           ("Sarah", "sarah"), ("Michael", "michael"), ("Chloé", "chloe"), ("Mary-Ann", "maryann")),
    "DE": (("Jürgen", "juergen"), ("Anna", "anna"), ("Lukas", "lukas"), ("Sophie", "sophie"),
           ("Björn", "bjoern"), ("Lea", "lea"), ("Felix", "felix"), ("Jörg", "joerg")),
}
_LAST = {
    "US": (("Doe", "doe"), ("Smith", "smith"), ("Garcia", "garcia"), ("O'Brien", "obrien"),
           ("Nguyen", "nguyen"), ("Johnson", "johnson"), ("Lee", "lee"), ("Brown", "brown"),
           ("Martinez", "martinez"), ("Davis", "davis")),
    "DE": (("Müller", "mueller"), ("Schmidt", "schmidt"), ("Weiß", "weiss"), ("Becker", "becker"),
           ("Schäfer", "schaefer"), ("Wagner", "wagner"), ("Hoffmann", "hoffmann")),
}
# (city, state, zip, area code); a ZIP+4 checks the US five-digit rule.
_CITIES = {
    "US": (("San Francisco", "CA", "94103", "415"), ("New York", "NY", "10001", "212"),
           ("Chicago", "IL", "60601", "312"), ("Seattle", "WA", "98101", "206"),
           ("Mountain View", "CA", "94043-1351", "650"), ("St. Louis", "MO", "63101", "314")),
    "DE": (("Berlin", "BE", "10115", "30"), ("München", "BY", "80331", "89"),
           ("Hamburg", "HH", "20095", "40"), ("Köln", "NW", "50667", "221"),
           ("Frankfurt am Main", "HE", "60311", "69")),
}
_DOMAINS = {
    "US": ("gmail.com", "yahoo.com", "outlook.com", "icloud.com"),
    "DE": ("gmail.com", "web.de", "gmx.de", "t-online.de"),
}
_CATALOG = tuple((f"SKU-{1001 + i}", price) for i, price in enumerate(
    (12.99, 19.50, 24.00, 29.99, 34.90, 45.00, 59.95, 79.00, 89.99, 119.00, 149.00, 9.99)))
_BROWSER_AGENTS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/129.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/129.0.0.0 Mobile Safari/537.36",
)
_APP_AGENT = "ShopExampleApp/4.2.1 (iPhone; iOS 17.5; Scale/3.00)"
_POS_AGENT = "ShopExamplePOS/2.3.0 (iPad; iPadOS 17.4)"


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    email: str  # as typed: sometimes capitalized or padded with spaces
    phone: str  # as typed, in one of several national or international formats
    city: str
    state: str
    zip: str
    country: str


@dataclass(frozen=True)
class MatchKeys:
    """The order's correctly normalized SHA-256 keys (None where the order lacks the value)."""

    email: str | None
    email_unnormalized: str | None  # sha256 of the raw string: the classic integration bug
    phone: str | None  # digits with country code, as Meta and Snap want it
    phone_e164: str | None  # '+' and digits, as TikTok's integrations hash it
    first_name: str | None
    last_name: str | None
    city: str | None
    state: str | None
    zip: str | None
    country: str | None


@dataclass(frozen=True)
class Session:
    """What the browser (or app, or POS terminal) exposes: never hashed."""

    ip: str
    user_agent: str
    fbp: str | None = None  # Meta _fbp cookie, web only
    ttp: str | None = None  # TikTok _ttp cookie, web only
    scid: str | None = None  # Snap _scid cookie, web only
    # Click ids: set when the visit came from that platform's ad (at most one platform).
    fbc: str | None = None
    ttclid: str | None = None
    sc_click_id: str | None = None


@dataclass(frozen=True)
class Order:
    order_id: str
    created_at: dt.datetime  # UTC
    offset: dt.timedelta  # the offset the export writes created_at in
    status: str
    is_test: bool
    path: str
    items: tuple[tuple[str, float], ...]  # (sku, price), one unit each
    total_value: float
    currency: str
    customer_id: str | None
    person: Person
    email: str | None  # raw, None when the order has none
    phone: str | None
    marketing_consent: bool | None
    keys: MatchKeys
    session: Session

    @property
    def counted(self) -> bool:
        return self.status in COUNTED_STATUSES and not self.is_test

    @property
    def is_web(self) -> bool:
        return self.path in WEB_PATHS

    @property
    def event_time(self) -> int:
        return int(self.created_at.timestamp())

    def csv_row(self) -> dict[str, str]:
        p = self.person
        return {
            "order_id": self.order_id,
            "created_at": self.created_at.astimezone(dt.timezone(self.offset)).isoformat(),
            "status": self.status,
            "total_value": f"{self.total_value:.2f}",
            "currency": self.currency,
            "sales_channel": _SALES_CHANNEL[self.path],
            "checkout_type": _CHECKOUT_TYPE[self.path],
            "customer_id": self.customer_id or "",
            "email": self.email or "",
            "phone": self.phone or "",
            "first_name": p.first_name,
            "last_name": p.last_name,
            "city": p.city,
            "state": p.state,
            "zip": p.zip,
            "country": p.country,
            "marketing_consent": "" if self.marketing_consent is None
            else str(self.marketing_consent).lower(),
            "is_test": str(self.is_test).lower(),
        }


def generate_orders(config: ShopConfig) -> list[Order]:
    """Orders in created_at order with ids 1001, 1002, ..."""
    rng = random.Random(f"{config.seed}:orders")
    instants: list[dt.datetime] = []
    for day_index in range(config.days):
        day = dt.datetime.combine(config.start_date + dt.timedelta(days=day_index), dt.time(),
                                  tzinfo=_UTC)
        count = max(1, round(config.orders_per_day * rng.uniform(0.8, 1.2)))
        # Busier in the (UTC) afternoon, but every hour sees orders, midnight edges included.
        instants.extend(day + dt.timedelta(seconds=int(rng.triangular(0, 86399, 52000)))
                        for _ in range(count))
    instants.sort()

    paths = list(config.path_mix)
    weights = [config.path_mix[p] for p in paths]
    accounts: list[tuple[str, Person]] = []  # repeat customers come back with the same identity
    orders = []
    for number, created_at in enumerate(instants, start=1001):
        path = rng.choices(paths, weights)[0]
        customer_id, person = None, None
        if path in ("web_account", "app") or (path == "pos" and rng.random() < 0.4):
            if accounts and rng.random() < 0.35:
                customer_id, person = rng.choice(accounts)
            else:
                customer_id, person = f"C{100000 + len(accounts)}", _person(rng)
                accounts.append((customer_id, person))
        person = person or _person(rng)
        in_store = path == "pos"
        items = tuple(rng.sample(_CATALOG, rng.choices((1, 2, 3), (0.6, 0.3, 0.1))[0]))
        email = person.email if not in_store or rng.random() < 0.5 else None
        phone = person.phone if rng.random() < (0.5 if in_store else 0.8) else None
        orders.append(Order(
            order_id=str(number),
            created_at=created_at,
            offset=_offset(rng, person.country),
            status=_status(rng, config),
            is_test=rng.random() < config.test_order_rate,
            path=path,
            items=items,
            total_value=round(sum(price for _, price in items), 2),
            currency="EUR" if person.country == "DE" else "USD",
            customer_id=customer_id,
            person=person,
            email=email,
            phone=phone,
            marketing_consent=rng.choices((True, False, None), (0.6, 0.25, 0.15))[0],
            keys=_match_keys(person, email, phone),
            session=_session(rng, path, created_at, person.country),
        ))
    return orders


def _status(rng: random.Random, config: ShopConfig) -> str:
    if rng.random() < config.not_counted_rate:
        return rng.choices(("cancelled", "pending"), (0.6, 0.4))[0]
    return rng.choices(COUNTED_STATUSES, _COUNTED_WEIGHTS)[0]


def _offset(rng: random.Random, country: str) -> dt.timedelta:
    local = dt.timedelta(hours=2 if country == "DE" else -5)
    return local if rng.random() < 0.6 else dt.timedelta(0)


def _person(rng: random.Random) -> Person:
    country = "DE" if rng.random() < 0.2 else "US"
    first, first_ascii = rng.choice(_FIRST[country])
    last, last_ascii = rng.choice(_LAST[country])
    city, state, zip_code, area = rng.choice(_CITIES[country])
    local = f"{first_ascii}.{last_ascii}{rng.choice(('', '', str(rng.randint(1, 99))))}"
    email = f"{local}@{rng.choice(_DOMAINS[country])}"
    return Person(first, last, _as_typed_email(rng, email), _as_typed_phone(rng, country, area),
                  city, state, zip_code, country)


def _as_typed_email(rng: random.Random, email: str) -> str:
    # Phones auto-capitalize, copy-paste adds spaces: a good share of raw emails is not normalized.
    roll = rng.random()
    if roll < 0.25:
        local, domain = email.split("@")
        return f"{'.'.join(part.capitalize() for part in local.split('.'))}@{domain.capitalize()}"
    if roll < 0.35:
        return f" {email} "
    if roll < 0.40:
        return email.upper()
    return email


def _as_typed_phone(rng: random.Random, country: str, area: str) -> str:
    if country == "US":
        line = f"555{rng.randint(100, 199):04d}"
        a, b = line[:3], line[3:]
        formats = (f"({area}) {a}-{b}", f"+1 {area} {a} {b}", f"{area}-{a}-{b}", f"{area}{line}")
    else:
        mobile = rng.random() < 0.5
        area = rng.choice(("151", "160", "171")) if mobile else area
        line = str(rng.randint(1000000, 9999999))
        formats = (f"0{area} {line}", f"+49 {area} {line}", f"0049 {area} {line}",
                   f"+49 (0){area} {line}")
    return rng.choice(formats)


def _match_keys(person: Person, email: str | None, phone: str | None) -> MatchKeys:
    digits = pii.phone_digits(phone, person.country) if phone else None
    return MatchKeys(
        email=pii.hash_or_none(pii.normalize_email(email)),
        email_unnormalized=pii.sha256(email) if email else None,
        phone=pii.hash_or_none(digits),
        phone_e164=pii.hash_or_none(f"+{digits}" if digits else None),
        first_name=pii.hash_or_none(pii.normalize_name(person.first_name)),
        last_name=pii.hash_or_none(pii.normalize_name(person.last_name)),
        city=pii.hash_or_none(pii.normalize_city(person.city)),
        state=pii.hash_or_none(pii.normalize_state(person.state)),
        zip=pii.hash_or_none(pii.normalize_zip(person.zip, person.country)),
        country=pii.hash_or_none(pii.normalize_country(person.country)),
    )


def _session(rng: random.Random, path: str, created_at: dt.datetime, country: str) -> Session:
    ip = (f"192.0.2.{rng.randint(1, 254)}" if country == "DE"
          else f"{rng.choice(('198.51.100', '203.0.113'))}.{rng.randint(1, 254)}")
    if path == "app":
        return Session(ip, _APP_AGENT)
    if path == "pos":
        return Session(ip, _POS_AGENT)
    # Cookies were set on the customer's first visit, up to 60 days before the order.
    order_ms = int(created_at.timestamp() * 1000)
    first_visit_ms = order_ms - rng.randint(60_000, 60 * 86_400_000)
    click_ms = order_ms - rng.randint(60_000, 3_600_000)
    referrer = rng.choices(("meta", "tiktok", "snap", None), (0.25, 0.15, 0.10, 0.50))[0]
    return Session(
        ip=ip,
        user_agent=rng.choice(_BROWSER_AGENTS),
        fbp=f"fb.1.{first_visit_ms}.{rng.randint(10**9, 2**31 - 1)}",
        ttp=ids.token(rng, 27),
        scid=ids.uuid(rng),
        fbc=f"fb.1.{click_ms}.IwAR{ids.token(rng, 40)}" if referrer == "meta" else None,
        ttclid=f"E.C.P.{ids.token(rng, 40)}" if referrer == "tiktok" else None,
        sc_click_id=ids.uuid(rng) if referrer == "snap" else None,
    )
