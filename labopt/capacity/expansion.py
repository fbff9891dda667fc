"""What it takes: the cheapest additions that give the province enough reactions in a day.

A small integer programme (OR-Tools CP-SAT). For each lab: switch it on (standby labs), add
shifts (up to 3 a day), PCR machines, extraction machines, technicians per shift and reagent.
Each lab's capacity is the minimum of its PCR, extraction, staff and reagent limits after the
additions (PCR and extraction runs per machine depend on the shifts worked, so capacity is a
product of machines and runs). Minimise the total effort, weighted by the scenario's
``[expansion]`` costs, subject to total capacity >= reactions needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from labopt.capacity.lab import (
    Additions,
    LabDay,
    extraction_reactions,
    pcr_reactions,
    productivity,
    runs_per_machine,
    staff_reactions,
)
from labopt.capacity.words import code, say
from labopt.scenario.model import Lab, Scenario

SCALE = 10**6  # effort weights are scaled to integers for CP-SAT
MAX_SHIFTS = 3


@dataclass(frozen=True)
class LabChange:
    """Additions at one lab and their effect on its daily capacity (reactions)."""

    lab: str
    name: str
    switch_on: bool
    additions: Additions
    reagent: int
    before: int
    after: int
    binding_before: tuple[str, ...]
    binding_after: tuple[str, ...]
    effort: float

    def describe(self, lang: str = "en") -> str:
        """The change in words: "CDC: +1 shift -> 736 to 1,104 reactions/day (+368); ..."."""
        parts = [say("switch_on", lang)] if self.switch_on else []
        a = self.additions
        for n, one in (
            (a.shifts, "shift"),
            (a.pcr_machines, "pcr_machine"),
            (a.extraction_machines, "extraction_machine"),
            (a.technicians, "technician"),
            (self.reagent, "reagent"),
        ):
            if n:
                parts.append(say(one if n == 1 or one == "reagent" else one + "s", lang, n=n))
        return say(
            "change",
            lang,
            name=self.name,
            parts=", ".join(parts),
            before=self.before,
            after=self.after,
            gain=self.after - self.before,
            limit_before=code("/".join(self.binding_before), lang) or say("off", lang),
            limit_after=code("/".join(self.binding_after), lang),
        )

    def to_dict(self) -> dict:
        return {
            "lab": self.lab,
            "name": self.name,
            "switch_on": self.switch_on,
            "extra_shifts": self.additions.shifts,
            "extra_pcr_machines": self.additions.pcr_machines,
            "extra_extraction_machines": self.additions.extraction_machines,
            "extra_technicians_per_shift": self.additions.technicians,
            "extra_reagent": self.reagent,
            "reactions_before": self.before,
            "reactions_after": self.after,
            "binding_before": list(self.binding_before),
            "binding_after": list(self.binding_after),
            "effort": self.effort,
            "description": self.describe(),
        }


@dataclass
class ExpansionPlan:
    needed: int
    available: int
    feasible: bool
    changes: list[LabChange] = field(default_factory=list)
    reachable: int = 0  # the most the province could reach with every addition
    total_effort: float = 0.0
    status: str = ""

    def reasoning(self, lang: str = "en") -> list[str]:
        """What it takes, in ``lang``: the gap, then the cheapest changes (or why none do)."""
        gap = self.needed - self.available
        lines = [say("need", lang, needed=self.needed, available=self.available, gap=gap)]
        if not self.feasible:
            short = self.needed - self.reachable
            lines.append(say("infeasible", lang, reachable=self.reachable, short=short))
            return lines
        status = code(self.status, lang)
        lines.append(say("cheapest", lang, effort=self.total_effort, status=status))
        lines += [f"  - {c.describe(lang)}" for c in self.changes]
        gained = sum(c.after - c.before for c in self.changes)
        total = self.available + gained
        lines.append(say("together", lang, gained=gained, total=total, needed=self.needed))
        return lines

    def to_dict(self) -> dict:
        return {
            "needed": self.needed,
            "available": self.available,
            "feasible": self.feasible,
            "reachable": self.reachable,
            "total_effort": self.total_effort,
            "status": self.status,
            "changes": [c.to_dict() for c in self.changes],
            "reasoning": self.reasoning(),
        }


def what_it_takes(
    scn: Scenario, lab_days: list[LabDay], needed: int, time_limit: float = 10.0
) -> ExpansionPlan:
    """Cheapest additions so that the day's total capacity reaches ``needed`` reactions."""
    by_id = {ld.lab: ld for ld in lab_days}
    labs = [lab for lab in scn.labs if lab.id in by_id]
    available = sum(by_id[lab.id].reactions for lab in labs if lab.status == "active")
    if available >= needed:
        return ExpansionPlan(needed, available, True, status="no additions needed")
    reachable = _solve(scn, labs, by_id, needed, time_limit, maximise=True)[1]
    if reachable < needed:
        return ExpansionPlan(needed, available, False, reachable=reachable, status="infeasible")
    changes, _, effort, status = _solve(scn, labs, by_id, needed, time_limit, maximise=False)
    return ExpansionPlan(needed, available, True, changes, reachable, effort, status)


def _solve(
    scn: Scenario,
    labs: list[Lab],
    by_id: dict[str, LabDay],
    needed: int,
    time_limit: float,
    maximise: bool,
) -> tuple[list[LabChange], int, float, str]:
    """CP-SAT over the additions: (changes, reachable reactions, effort, status); the
    greatest reachable total when ``maximise``, else the cheapest way to ``needed``."""
    from ortools.sat.python import cp_model  # slow to import; only this search needs it

    policy, ex = scn.policy, scn.settings.expansion
    m = cp_model.CpModel()
    caps, cost_terms, vars_by_lab = [], [], {}
    for lab in labs:
        reagent_now = by_id[lab.id].reagent
        s0 = lab.shifts_per_day
        # variables: additions at this lab
        on = m.new_bool_var(f"on_{lab.id}")
        if lab.status == "active":
            m.add(on == 1)
        s = m.new_int_var(0, max(0, MAX_SHIFTS - s0), f"shifts_{lab.id}")
        pm = m.new_int_var(0, ex.max_pcr_machines, f"pcr_{lab.id}")
        em = m.new_int_var(0, ex.max_extraction_machines, f"extr_{lab.id}")
        tech = m.new_int_var(0, ex.max_technicians, f"tech_{lab.id}")
        reagent = m.new_int_var(0, max(needed, 0), f"reagent_{lab.id}")
        # limits after the additions
        shift_options = range(s0, max(s0, MAX_SHIFTS) + 1)
        pcr_runs = m.new_int_var(0, 1000, f"pcr_runs_{lab.id}")
        m.add_element(
            s, [runs_per_machine(k, lab.run_hours, policy) for k in shift_options], pcr_runs
        )
        ext_runs = m.new_int_var(0, 1000, f"ext_runs_{lab.id}")
        m.add_element(
            s,
            [runs_per_machine(k, lab.extraction_run_hours, policy) for k in shift_options],
            ext_runs,
        )
        machines = m.new_int_var(0, 1000, f"machines_{lab.id}")
        m.add(machines == lab.pcr_machines + pm)
        pcr_slots = m.new_int_var(0, 10**7, f"pcr_slots_{lab.id}")
        m.add_multiplication_equality(pcr_slots, [machines, pcr_runs])
        ext_machines = m.new_int_var(0, 1000, f"ext_machines_{lab.id}")
        m.add(ext_machines == lab.extraction_machines + em)
        ext_slots = m.new_int_var(0, 10**7, f"ext_slots_{lab.id}")
        m.add_multiplication_equality(ext_slots, [ext_machines, ext_runs])
        staff = m.new_int_var(0, 10**4, f"staff_{lab.id}")
        m.add(staff == lab.staff_per_shift + tech)
        shifts = m.new_int_var(0, MAX_SHIFTS, f"shifts_total_{lab.id}")
        m.add(shifts == s0 + s)
        staff_shifts = m.new_int_var(0, 10**5, f"staff_shifts_{lab.id}")
        m.add_multiplication_equality(staff_shifts, [staff, shifts])
        cap = m.new_int_var(0, 10**8, f"cap_{lab.id}")
        m.add(cap <= pcr_slots * (lab.wells_per_run - lab.control_wells_per_run))
        m.add(cap <= ext_slots * lab.extraction_samples_per_run)
        m.add(cap <= staff_shifts * productivity(lab, policy))
        m.add(cap <= reagent_now + reagent)
        m.add(cap <= 10**8 * on)
        caps.append(cap)
        vars_by_lab[lab.id] = (on, s, pm, em, tech, reagent, cap)
        switch_cost = ex.standby_lab if lab.status == "standby" else 0.0
        for var, w in (
            (on, switch_cost),
            (s, ex.extra_shift),
            (pm, ex.pcr_machine),
            (em, ex.extraction_machine),
            (tech, ex.technician),
        ):
            cost_terms.append(round(w * SCALE) * var)
        # reagent is charged per reaction: reagent_per_1000 / 1000
        cost_terms.append(round(ex.reagent_per_1000 * SCALE / 1000) * reagent)
    total = sum(caps)
    if maximise:
        m.maximize(total)
    else:
        m.add(total >= needed)
        m.minimize(sum(cost_terms))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    # one worker and a fixed seed: ties between equally cheap changes are broken the same way
    # on every run, so a coordinator gets the same answer twice
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 0
    status = solver.solve(m)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return [], 0, 0.0, solver.status_name(status)
    reach = int(solver.value(total))
    if maximise:
        return [], reach, 0.0, solver.status_name(status)
    changes = []
    effort = 0.0
    for lab in labs:
        is_on, n_shifts, n_pcr, n_extraction, n_techs, n_reagent, _ = (
            int(solver.value(v)) for v in vars_by_lab[lab.id]
        )
        add = Additions(n_shifts, n_pcr, n_extraction, n_techs)
        switched = lab.status == "standby" and bool(is_on)
        if not (switched or n_shifts or n_pcr or n_extraction or n_techs or n_reagent):
            continue
        before_day = by_id[lab.id]
        before = before_day.reactions if lab.status == "active" else 0
        after_limits = {
            "pcr": pcr_reactions(lab, policy, add),
            "extraction": extraction_reactions(lab, policy, add),
            "staff": staff_reactions(lab, policy, add),
            "reagent": before_day.reagent + n_reagent,
        }
        after = min(after_limits.values())
        lab_effort = (
            (ex.standby_lab if switched else 0)
            + n_shifts * ex.extra_shift
            + n_pcr * ex.pcr_machine
            + n_extraction * ex.extraction_machine
            + n_techs * ex.technician
            + n_reagent / 1000 * ex.reagent_per_1000
        )
        effort += lab_effort
        changes.append(
            LabChange(
                lab.id,
                lab.name,
                switched,
                add,
                n_reagent,
                before,
                after,
                before_day.binding if lab.status == "active" else (),
                tuple(k for k, v in after_limits.items() if v == after),
                round(lab_effort, 3),
            )
        )
    changes.sort(key=lambda c: -(c.after - c.before))
    return changes, reach, round(effort, 3), solver.status_name(status)
