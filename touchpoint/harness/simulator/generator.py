"""The generator: draws each subscriber's timeline from (seed, subscriber index) — home subscribers with their
homes, work places, outings and handsets, and inbound roamers with their trips — hands the subscriber the plants
it was given (plants/), and turns the timeline into records (records.py)."""

from __future__ import annotations

import math
import random
from typing import Any

from touchpoint.harness.simulator.city import CATALOGUE
from touchpoint.harness.simulator.plants import PLANTS
from touchpoint.harness.simulator.records import finish
from touchpoint.harness.simulator.scenario import Scenario
from touchpoint.harness.simulator.subscriber import (
    AGES,
    BRANDS,
    CHANNELS,
    FLIGHT,
    FOREIGN_ROAMERS,
    OFF,
    PLANS,
    PLANT_LEAD_MS,
    PLANT_TAIL_MS,
    QUOTA_WEIGHTS,
    QUOTAS,
    TRIAL_PLANS,
    Sub,
    SubResult,
    Timeline,
    make_imei,
)
from udfs.units import DAY_MS, HOUR_MS, MB, MINUTE_MS


class Generator(Scenario):
    """Draws subscribers in the scenario: natural lives, plants, records."""

    def subscriber(self, idx: int) -> SubResult:
        if idx < self.n_home:
            sub = self.new_home(idx)
        else:
            sub = self.new_roamer(idx)
        return finish(self, sub)

    def new_home(self, i: int) -> Sub:
        rng = random.Random(f"{self.seed}/sub/{i}")
        msin = (i * 7_654_321 + 1_234_567) % 5_000_000_000
        plmn = self.home_plmns[i % len(self.home_plmns)] if self.home_plmns else "46000"
        imsi = f"{plmn}{msin:010d}"[:15]
        tac = self.random_handset(rng)
        c = self.city
        home = rng.choice(self.residential_cells) if rng.random() < 0.8 else rng.randrange(c.n_cells)
        age = rng.choices(AGES, (18, 30, 25, 15, 12))[0]
        r = rng.random()
        student = age == "18-24" and r < 0.5
        if student:
            work = rng.choice(self.campus_cells)
            # students buy recent phones: most can do G3 (a few draws, so some still cannot)
            for _ in range(3):
                if self.g3_tac(tac):
                    break
                tac = self.random_handset(rng)
        elif r < 0.75:
            work = rng.choice(self.work_cells)
        else:
            work = rng.randrange(c.n_cells)
        sub = Sub(idx=i, rng=rng, msisdn=self.home_msisdn(i), imsi=imsi, imei=make_imei(tac, rng), home=home, work=work)
        daily_mb = self._profile(sub, tac, age, student)
        self._activity(sub, daily_mb)
        plants = self.plants.get(i, [])
        if "handset_store_visits" in plants:
            # keep the natural timeline out of handset stores, so the planted visits are the ones counted
            sub.avoid = self.store_cells
            while sub.home in sub.avoid:
                sub.home = rng.randrange(c.n_cells)
            while sub.work in sub.avoid:
                sub.work = rng.randrange(c.n_cells)
        self.natural_home(sub)
        self.apply_plants(sub, plants)
        if self.journey is not None and not plants and self.journey.product not in sub.profile["products"]:
            self.plant_trial(sub)
        sub.tl.normalize()
        return sub

    def _profile(self, sub: Sub, tac: str, age: str, student: bool) -> float:
        """The subscriber's profile row (brand, plan, quota and its use so far, consents, products held); returns
        the MB a day the subscriber uses."""
        rng, imsi = sub.rng, sub.imsi
        brand = rng.choices([b for b, _ in BRANDS], [w for _, w in BRANDS])[0]
        plan, arpu = rng.choice(PLANS[brand])
        if arpu == "high" and rng.random() < 0.15:
            arpu = "vip"
        q = rng.choices(QUOTAS, QUOTA_WEIGHTS)[0]
        # most subscribers use about their monthly quota, some far more (they will run out)
        daily_mb = (q / 30 if q else 3.0) * rng.lognormvariate(-0.2, 0.6)
        used = min(q - 1, int(daily_mb * self.days_into_month * rng.uniform(0.5, 1.5))) if q else 0
        g3 = self.g3_tac(tac)
        products = []
        if g3 and rng.random() < 0.4:
            products.append(rng.choice(("g3_basic", "g3_data_100")))
        # (product, share of subscribers holding it, share of students): students live on Fetion and Music Club,
        # the services the G3 association campaigns look for
        for prod, pr, pr_student in (
            ("12580", 0.15, 0.15),
            ("music_club", 0.2, 0.5),
            ("mobile_paper", 0.1, 0.1),
            ("fetion", 0.35, 0.7),
            ("data_package_50", 0.1, 0.1),
        ):
            if rng.random() < (pr_student if student else pr):
                products.append(prod)
        sub.profile = {
            "msisdn": sub.msisdn,
            "imsi": imsi,
            "brand": brand,
            "plan": plan,
            "data_quota_mb": q,
            "data_used_mb": used,
            "arpu_band": arpu,
            "age_band": age,
            "consent_marketing": rng.random() < 0.85,
            "consent_location": rng.random() < 0.8,
            "do_not_disturb": rng.random() < 0.08,
            "products": products,
        }
        return daily_mb

    def _activity(self, sub: Sub, daily_mb: float) -> None:
        """How often a day the subscriber calls, texts, uses data and orders, and how much a data session moves."""
        rng = sub.rng
        q = sub.profile["data_quota_mb"]
        sub.has_data = q > 0 or rng.random() < 0.4
        mult = rng.lognormvariate(0, 0.5)
        sub.rates = {
            "mo_call": 2.5 * mult,
            "mt_call": 2.2 * mult,
            "mo_sms": 2.5 * rng.lognormvariate(0, 0.6),
            "mt_sms": 3.0 * rng.lognormvariate(0, 0.4),
            "imei_check": 0.1,
            "call_forward_set": 0.003,
            "xdr": rng.uniform(10, 35) if sub.has_data else 0.0,
            "order": 0.015,
        }
        sub.usage_bytes = daily_mb * MB / max(1.0, sub.rates["xdr"]) / 2.0

    def natural_home(self, sub: Sub) -> None:
        rng = sub.rng
        night_off = rng.random() < 0.15
        works = rng.random() < 0.85
        out_wd = rng.uniform(0.1, 0.4)
        out_we = rng.uniform(0.4, 0.8)
        was_off = night_off and rng.random() < 0.85  # the night before the first day
        tl = Timeline([self.S - 3 * DAY_MS], [OFF if was_off else sub.home], [None])
        c = self.city
        avoid = sub.avoid
        for day0, wd in self.days:
            wake = day0 + int(min(9.5, max(5.5, rng.gauss(7.0, 0.6))) * HOUR_MS)
            if was_off:
                tl.add(wake, sub.home)
            t = wake
            if works and (wd < 5 or rng.random() < 0.1):
                t = self.move(tl, sub.home, sub.work, wake + int(rng.uniform(20, 70) * MINUTE_MS), rng, avoid)
                if rng.random() < 0.25:  # lunch nearby
                    nb = [x for x in c.neighbours(sub.work) if x not in avoid] or [sub.work]
                    lt = max(t + 30 * MINUTE_MS, day0 + int(rng.uniform(11.5, 12.5) * HOUR_MS))
                    lunch = rng.choice(nb)
                    tl.add(lt, lunch)
                    t = tl.add(lt + int(rng.uniform(30, 70) * MINUTE_MS), sub.work)
                end_work = max(t + 2 * HOUR_MS, day0 + int(rng.gauss(17.8, 0.7) * HOUR_MS))
                if rng.random() < out_wd:
                    t = self.outing(tl, sub.work, sub.home, end_work, int(rng.uniform(30, 150) * MINUTE_MS), rng, avoid)
                else:
                    t = self.move(tl, sub.work, sub.home, end_work, rng, avoid)
            elif rng.random() < out_we:
                go = max(t + 30 * MINUTE_MS, day0 + int(rng.uniform(9.5, 16) * HOUR_MS))
                t = self.outing(tl, sub.home, sub.home, go, int(rng.uniform(45, 240) * MINUTE_MS), rng, avoid)
            bed = min(day0 + int(25.5 * HOUR_MS), max(t + 10 * MINUTE_MS, day0 + int(rng.gauss(23.2, 0.8) * HOUR_MS)))
            was_off = night_off and rng.random() < 0.85
            if was_off:
                tl.add(bed, OFF)
        tl.crop(self.S, self.E)
        sub.tl = tl

    def outing(self, tl: Timeline, a: int, home: int, t: int, dur: int, rng: random.Random, avoid: Any = None) -> int:
        region = self.pick_region(rng)
        while avoid and avoid.intersection(self.city.regions[region].cells):
            region = self.pick_region(rng)
        cell = rng.choice(self.city.regions[region].cells)
        t = self.move(tl, a, cell, t, rng, avoid)
        tl.add(t, cell)
        t, last = self.stay(tl, region, cell, t, dur, rng)
        return self.move(tl, last, home, t, rng, avoid)

    def new_roamer(self, idx: int) -> Sub:
        rng = random.Random(f"{self.seed}/roamer/{idx}")
        r = idx - self.n_home
        c = self.city
        if rng.random() < 0.6:
            plmn, cc, nlen = FOREIGN_ROAMERS[r % len(FOREIGN_ROAMERS)]
            national = {"44": "77", "1": "206", "852": "9", "81": "90"}[cc]
            rest = nlen - len(national)
            msisdn = f"{cc}{national}{(r * 7919 + 17) % 10**rest:0{rest}d}"
            imsi = f"{plmn}{r:0{15 - len(plmn)}d}"
            tac = self.random_handset(rng, unknown_p=0.5)
        else:
            prefix, _prov = c.other_prefixes[r % len(c.other_prefixes)]
            msisdn = f"{prefix}{(r // len(c.other_prefixes)) % 10_000:04d}"
            plmn = self.home_plmns[0] if self.home_plmns else "46000"
            imsi = f"{plmn}{5_000_000_000 + r:010d}"
            tac = self.random_handset(rng)
        sub = Sub(idx=idx, rng=rng, msisdn=msisdn, imsi=imsi, imei=make_imei(tac, rng), home=0, roamer=True)
        sub.rates = {
            "mo_call": 2.0,
            "mt_call": 1.5,
            "mo_sms": 2.0,
            "mt_sms": 2.0,
            "imei_check": 0.05,
            "call_forward_set": 0.0,
            "xdr": rng.uniform(5, 25),
            "order": 0.0,
        }
        sub.usage_bytes = rng.lognormvariate(math.log(15), 0.8) * MB / max(1.0, sub.rates["xdr"]) / 2.0
        sub.has_data = True
        # visits: arrive (roam_in), stay, maybe leave and come back after a long silence (roam_in again)
        S, E = self.S, self.E
        span = E - S
        tl = Timeline([S], [FLIGHT], [None])
        arrive = S + MINUTE_MS + int(rng.random() * max(0, 0.7 * span - MINUTE_MS))
        gap = self.p.roam_in_gap_ms
        comes_back = rng.random() < 0.4
        while arrive < E - 30 * MINUTE_MS:
            leave = arrive + int(rng.uniform(4 * HOUR_MS, 3 * DAY_MS))
            port = rng.choice(self.transport_cells)
            hotel = rng.randrange(c.n_cells)
            tl.add(arrive, port, ["roam_in"])
            t = self.move(tl, port, hotel, arrive + int(rng.uniform(15, 60) * MINUTE_MS), rng)
            tl.add(t, hotel)
            while True:
                t += int(rng.uniform(1.5, 12) * HOUR_MS)
                if t >= leave:
                    break
                t = self.outing(tl, hotel, hotel, t, int(rng.uniform(40, 180) * MINUTE_MS), rng)
            if leave >= E:
                break
            t = self.move(tl, hotel, port, max(t, leave), rng)
            gone = tl.add(t + int(rng.uniform(30, 90) * MINUTE_MS), FLIGHT)
            if not comes_back:
                break
            comes_back = False  # at most one return visit
            arrive = gone + gap + int(rng.uniform(0.2, 6) * HOUR_MS)
        tl.crop(S, E)
        tl.normalize()
        sub.tl = tl
        return sub

    # -------------------------------------------------------------------------------------------------- plants
    def plant_need_ms(self, kind: str) -> int:
        """Scenario time one plant of this kind needs."""
        return PLANTS[kind].need_ms(self)

    def apply_plants(self, sub: Sub, kinds: list[str]) -> None:
        if not kinds:
            return
        lo, hi = self.S + PLANT_LEAD_MS, self.E - PLANT_TAIL_MS
        usable = hi - lo
        kinds = sorted(kinds, key=lambda k: -self.plant_need_ms(k))
        while kinds and sum(self.plant_need_ms(k) for k in kinds) > usable:
            kinds.pop(0)
        if not kinds:
            return
        need = [self.plant_need_ms(k) for k in kinds]
        scale = usable / sum(need)
        order = list(range(len(kinds)))
        sub.rng.shuffle(order)
        t = lo
        for j in order:
            slot = int(need[j] * scale)
            ok = PLANTS[kinds[j]].place(self, sub, t, t + slot)
            if ok:
                sub.plants_done.append(kinds[j])
            t += slot

    def plant_trial(self, sub: Sub) -> None:
        """A free trial of the journey's trial product, for ``trial_fraction`` of the subscribers without other
        plants, with one of the TRIAL_PLANS (its own random stream, so nothing else of the subscriber changes)."""
        j = self.journey
        rng = random.Random(f"{self.seed}/trial/{sub.idx}")
        if rng.random() >= self.trial_fraction:
            return
        lo, hi = self.S + 20 * MINUTE_MS, self.E - j.trial_ms - 20 * MINUTE_MS
        if hi <= lo:
            return
        t0 = lo + int(rng.random() * (hi - lo))
        plan = rng.choice(TRIAL_PLANS)
        sub.trial = plan
        order = {"product_kind": CATALOGUE.get(j.trial_product, ("", "trial"))[1], "channel": rng.choice(CHANNELS)}
        sub.forced.append((t0, "order", {**order, "product_id": j.trial_product, "action": "trial_start"}, None))
        # natural traffic of the service would blur the plan: it goes to another app during the trial
        sub.quiet_app = (j.app, t0 // HOUR_MS * HOUR_MS, t0 + j.trial_ms + HOUR_MS)
        if plan in ("convert", "lapse", "opt_out"):
            total = j.min_bytes * rng.uniform(1.5, 4.0) if plan != "opt_out" else j.min_bytes * rng.uniform(0, 0.8)
        elif plan == "low_usage":
            total = j.min_bytes * rng.uniform(0.05, 0.6)
        else:  # no_usage
            total = 0
        n = rng.randint(2, 4) if total else 0
        for k in range(n):
            t = t0 + int((k + rng.random()) / n * 0.5 * j.trial_ms)
            self.ensure_on(sub, t - MINUTE_MS, t + MINUTE_MS)
            b = max(1, int(total / n))
            extra = {"bytes_up": b // 20, "bytes_down": b - b // 20, "app": j.app, "duration_s": rng.randint(60, 900)}
            sub.forced.append((t, "xdr", extra, None))
        if plan in ("convert", "opt_out"):
            t = t0 + int(rng.uniform(0.55, 0.95) * j.trial_ms)
            product = j.product if plan == "convert" else j.trial_product
            kind = CATALOGUE[product][1] if product in CATALOGUE else "value_added"
            action = "subscribe" if plan == "convert" else "unsubscribe"
            sub.forced.append(
                (t, "order", {**order, "product_kind": kind, "product_id": product, "action": action}, None)
            )
