#include "services/badge/admission.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/badge/columns.h"
#include "services/common/status_macros.h"

namespace iam::badge {
namespace {

constexpr absl::string_view kInsidePrefix = "inside/";

std::string Lower(absl::string_view enum_name, absl::string_view prefix) {
  if (enum_name.size() > prefix.size()) enum_name.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(enum_name);
}

std::string StatusName(iam::v1::PersonStatus s) {
  return Lower(iam::v1::PersonStatus_Name(s), "PERSON_STATUS_");
}

std::string BadgeStateName(iam::v1::BadgeState s) {
  return Lower(iam::v1::BadgeState_Name(s), "BADGE_STATE_");
}

}  // namespace

std::vector<LevelMatch> MatchLevels(const AreaRule& area,
                                    absl::string_view person_id,
                                    const PersonGrants& grants, absl::Time now) {
  std::vector<LevelMatch> out;
  if (grants.status != iam::v1::PERSON_STATUS_ACTIVE) return out;
  for (const LevelRule& level : area.levels) {
    LevelMatch match;
    match.level = &level;
    bool matched = false;
    if (level.people.contains(person_id)) {
      matched = true;
      match.via = "listed";
    } else {
      absl::Time best = absl::InfinitePast();
      for (const auto& [role, until] : grants.roles) {
        if (until <= now || !level.roles.contains(role)) continue;
        if (until > best) {
          best = until;
          match.via = absl::StrCat("role ", role);
        }
      }
      if (best > now) {
        matched = true;
        match.until = best;
      }
    }
    if (matched) out.push_back(std::move(match));
  }
  return out;
}

std::string Admitter::InsideKey(absl::string_view area_id,
                                absl::string_view badge_id) {
  return absl::StrCat(area_id, "/", badge_id);
}

absl::StatusOr<std::unique_ptr<Admitter>> Admitter::Open(
    AreaRegistry* areas, BadgeRegistry* badges, Store* store, const Clock* clock,
    Options options) {
  std::unique_ptr<Admitter> a(new Admitter(areas, badges, store, clock, options));
  absl::MutexLock lock(&a->mu_);
  RETURN_IF_ERROR(store->Scan(kBadgeColumn, kInsidePrefix,
                              [&](absl::string_view key, absl::string_view) {
                                key.remove_prefix(kInsidePrefix.size());
                                a->inside_.insert(std::string(key));
                                return true;
                              }));
  return a;
}

bool Admitter::IsInside(absl::string_view area_id,
                        absl::string_view badge_id) const {
  absl::MutexLock lock(&mu_);
  return inside_.contains(InsideKey(area_id, badge_id));
}

WriteBatch Admitter::PresenceBatch(const std::vector<PresenceChange>& changes) {
  WriteBatch batch;
  for (const PresenceChange& c : changes) {
    std::string key = absl::StrCat(kInsidePrefix, InsideKey(c.area_id, c.badge_id));
    if (c.inside) {
      batch.Put(kBadgeColumn, key, "");
    } else {
      batch.Delete(kBadgeColumn, key);
    }
  }
  return batch;
}

void Admitter::DecideEntry(const AreaRule& area, const iam::v1::Badge& badge,
                           absl::Time now, AdmitDecision* d,
                           std::vector<PresenceChange>* changes,
                           DoorState* door_before, bool* door_saved) {
  if (badge.state() != iam::v1::BADGE_STATE_ACTIVE) {
    d->reason = absl::StrCat("badge ", badge.id(), " is ",
                             BadgeStateName(badge.state()));
    return;
  }
  if (absl::FromUnixSeconds(badge.expires_at_unix()) <= now) {
    d->reason = absl::StrCat("badge ", badge.id(), " expired at ",
                             absl::FormatTime(absl::RFC3339_sec,
                                              absl::FromUnixSeconds(badge.expires_at_unix()),
                                              absl::UTCTimeZone()));
    return;
  }
  GrantSource* source = grants_.load();
  if (source == nullptr) {
    d->reason = "the server is starting; the person's status cannot be checked yet";
    return;
  }
  absl::StatusOr<PersonGrants> grants = source->Lookup(badge.person_id(), area.proto.scope());
  if (!grants.ok()) {
    d->reason = absl::IsNotFound(grants.status())
                    ? absl::StrCat("unknown person ", badge.person_id())
                    : absl::StrCat("cannot check the person's status and grants: ",
                                   grants.status().message());
    return;
  }
  if (grants->status != iam::v1::PERSON_STATUS_ACTIVE) {
    d->reason = absl::StrCat("person ", badge.person_id(), " is ",
                             StatusName(grants->status));
    return;
  }
  // Re-read "now": the lookup may have taken a while, and a grant that ended
  // meanwhile must not admit.
  now = clock_->Now();
  std::string admitted_by;
  const bool visitor = badge.kind() == iam::v1::BADGE_KIND_VISITOR;
  if (!visitor) {
    std::vector<LevelMatch> matches = MatchLevels(area, badge.person_id(), *grants, now);
    if (matches.empty()) {
      d->reason = absl::StrCat("no access level of area ", area.proto.id(),
                               " grants person ", badge.person_id());
      return;
    }
    std::vector<std::string> closed;
    for (const LevelMatch& m : matches) {
      std::string why;
      if (m.level->schedule.OpenAt(now, area.time_zone, &why)) {
        admitted_by = absl::StrCat("access level ", m.level->name, " (", m.via, ")");
        break;
      }
      closed.push_back(absl::StrCat(m.level->name, ": ", why));
    }
    if (admitted_by.empty()) {
      d->reason = absl::StrCat("not now: ", absl::StrJoin(closed, "; "));
      return;
    }
  } else if (area.proto.visitor_escort_window_seconds() == 0) {
    d->reason = absl::StrCat("area ", area.proto.id(), " admits no visitors");
    return;
  }

  absl::MutexLock lock(&mu_);
  DoorState& door = doors_[d->door_id];
  *door_before = door;
  *door_saved = true;
  const std::string key = InsideKey(area.proto.id(), badge.id());
  const bool inside = inside_.contains(key);
  std::string warning;
  if (inside) {
    if (area.proto.anti_passback() == iam::v1::ANTI_PASSBACK_HARD) {
      d->reason = absl::StrCat("anti-passback: badge ", badge.id(),
                               " is already inside area ", area.proto.id(),
                               "; it must exit first");
      return;
    }
    if (area.proto.anti_passback() == iam::v1::ANTI_PASSBACK_SOFT) {
      warning = " (anti-passback warning: no exit since the last entry)";
    }
  }
  if (visitor) {
    const absl::Duration window =
        absl::Seconds(area.proto.visitor_escort_window_seconds());
    if (door.escort_person.empty() || door.escort_person == badge.person_id() ||
        now - door.escort_at > window) {
      d->reason = absl::StrCat(
          "visitor must be escorted: an authorized employee must be admitted "
          "at this door within ", area.proto.visitor_escort_window_seconds(),
          " s before");
      return;
    }
    admitted_by = absl::StrCat("visitor escorted by ", door.escort_person);
  } else if (area.proto.two_person_window_seconds() > 0) {
    const absl::Duration window =
        absl::Seconds(area.proto.two_person_window_seconds());
    if (door.pending_person.empty() || door.pending_person == badge.person_id() ||
        now - door.pending_at > window) {
      door.pending_person = badge.person_id();
      door.pending_badge = badge.id();
      door.pending_at = now;
      d->reason = absl::StrCat(
          "two-person rule: waiting for a second authorized person at this "
          "door within ", area.proto.two_person_window_seconds(), " s");
      return;
    }
    d->companion_person_id = door.pending_person;
    admitted_by = absl::StrCat(admitted_by, ", two-person rule with ",
                               door.pending_person);
    const std::string companion_key = InsideKey(area.proto.id(), door.pending_badge);
    changes->push_back({area.proto.id(), door.pending_badge, true,
                        inside_.contains(companion_key)});
    inside_.insert(companion_key);
    door.pending_person.clear();
    door.pending_badge.clear();
    door.pending_at = absl::InfinitePast();
  }
  if (area.proto.anti_passback() != iam::v1::ANTI_PASSBACK_OFF) {
    changes->push_back({area.proto.id(), badge.id(), true, inside});
    inside_.insert(key);
  }
  if (!visitor) {
    door.escort_person = badge.person_id();
    door.escort_at = now;
  }
  d->admitted = true;
  d->reason = absl::StrCat("admitted: ", admitted_by, warning);
}

AdmitDecision Admitter::Admit(const AdmitInput& input, const Recorder& record) {
  AdmitDecision out;
  // The recorder completes at once, so `done` has run before AdmitThen returns.
  AdmitThen(
      input,
      [this, &record](const AdmitDecision& d, WriteBatch presence,
                      RecordDone recorded) {
        absl::Status status = record(d);
        // Presence after its record: if the record failed, there is nothing
        // to undo in the store. A failed presence write leaves the
        // in-memory state authoritative until a restart.
        if (status.ok() && !presence.empty()) {
          store_->WriteUnsynced(presence).IgnoreError();
        }
        recorded(status);
      },
      [&out](AdmitDecision d) { out = std::move(d); });
  return out;
}

void Admitter::AdmitThen(const AdmitInput& input, const AsyncRecorder& record,
                         DecisionDone done) {
  auto p = std::make_shared<Pending>();
  Decide(input, p.get());
  record(p->d, PresenceBatch(p->changes),
         [this, p, done = std::move(done)](absl::Status recorded) {
    Finish(p.get(), recorded);
    done(std::move(p->d));
  });
}

void Admitter::Finish(Pending* p, const absl::Status& recorded) {
  if (!recorded.ok()) {
    // Undo what this decision changed: the door never opened.
    if (!p->changes.empty() || p->door_touched) {
      {
        absl::MutexLock lock(&mu_);
        for (const PresenceChange& c : p->changes) {
          std::string key = InsideKey(c.area_id, c.badge_id);
          if (c.was_inside) {
            inside_.insert(key);
          } else {
            inside_.erase(key);
          }
        }
        if (p->door_touched) doors_[p->d.door_id] = p->door_before;
      }
    }
    p->d.admitted = false;
    p->d.reason = absl::StrCat("the decision could not be recorded durably (",
                               recorded.message(), "); denied");
  }
  if (!p->claimed_badge.empty()) {
    absl::MutexLock lock(&mu_);
    tracks_[p->claimed_badge].in_flight = false;
  }
}

void Admitter::Decide(const AdmitInput& input, Pending* p) {
  AdmitDecision& d = p->d;
  d.door_id = input.door_id;
  d.direction = input.direction;
  const absl::Time now = clock_->Now();
  std::shared_ptr<const AreaSet> areas = areas_->snapshot();
  const AreaRule* area = areas->AreaOfDoor(input.door_id);
  if (area == nullptr) {
    d.reason = absl::StrCat("unknown door '", input.door_id.substr(0, 64), "'");
    return;
  }
  d.area_id = area->proto.id();
  d.area_scope = area->proto.scope();
  if (input.direction != iam::v1::DIRECTION_ENTRY &&
      input.direction != iam::v1::DIRECTION_EXIT) {
    d.reason = "direction must be ENTRY or EXIT";
    return;
  }
  absl::StatusOr<std::string> card = NormalizeCardNumber(input.card_number);
  if (!card.ok()) {
    d.reason = std::string(card.status().message());
    return;
  }
  const absl::Duration skew =
      absl::AbsDuration(absl::FromUnixMicros(input.presented_at_unix_micros) - now);
  if (skew > options_.max_clock_skew) {
    d.reason = absl::StrCat(
        "the door's time is ", absl::ToInt64Seconds(skew),
        " s away from the server's (at most ",
        absl::ToInt64Seconds(options_.max_clock_skew),
        " s allowed); fix the controller's clock");
    return;
  }
  absl::optional<iam::v1::Badge> badge = badges_->FindByCard(*card);
  if (!badge.has_value()) {
    d.reason = absl::StrCat("unknown card ", *card);
    return;
  }
  d.badge_id = badge->id();
  d.person_id = badge->person_id();

  {
    absl::MutexLock lock(&mu_);
    BadgeTrack& track = tracks_[badge->id()];
    const bool clone_suspected =
        track.in_flight || (track.last_door != input.door_id &&
                            now - track.last_at < options_.two_doors_window);
    if (clone_suspected) {
      d.reason = absl::StrCat("badge ", badge->id(),
                              " presented at two doors at once (also at ",
                              track.last_door, "); possible cloned card");
    } else {
      track.in_flight = true;
    }
    track.last_door = input.door_id;
    track.last_at = now;
    if (clone_suspected) return;
  }
  // Released by Finish, once the decision is recorded.
  p->claimed_badge = badge->id();

  if (input.direction == iam::v1::DIRECTION_EXIT) {
    absl::MutexLock lock(&mu_);
    const std::string key = InsideKey(area->proto.id(), badge->id());
    const bool inside = inside_.contains(key);
    if (inside) {
      p->changes.push_back({area->proto.id(), badge->id(), false, true});
      inside_.erase(key);
    }
    d.admitted = true;
    d.reason = absl::StrCat(
        "exit",
        !inside && area->proto.anti_passback() != iam::v1::ANTI_PASSBACK_OFF
            ? " (anti-passback warning: no entry recorded)"
            : "",
        badge->state() != iam::v1::BADGE_STATE_ACTIVE
            ? absl::StrCat(" (badge is ", BadgeStateName(badge->state()), ")")
            : "");
  } else {
    DecideEntry(*area, *badge, now, &d, &p->changes, &p->door_before,
                &p->door_touched);
  }
}

}  // namespace iam::badge
