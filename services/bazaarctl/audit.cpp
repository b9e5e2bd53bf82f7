#include "audit.hpp"

#include <algorithm>
#include <bit>
#include <boost/json/value.hpp>
#include <boost/unordered/unordered_flat_map.hpp>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "contracts/contracts.hpp"
#include "events/errors.hpp"
#include "events/fields.hpp"
#include "events/uuid.hpp"
#include "order_status.hpp"

namespace bazaar::ctl {
namespace {

namespace inv = contracts::inventory;
namespace ord = contracts::order;
namespace pay = contracts::payment;
using order::Status;

// The event types whose payloads the audit reads; every other type of schemas/ is only
// checked for unique ids.
enum class Kind {
  kOther,
  kOrderPlaced,
  kOrderConfirmed,
  kOrderRejected,
  kOrderCancelled,
  kOrderStatusChanged,
  kOrderAwaitingPayment,
  kOrderRefunded,
  kPaymentCharged,
  kPaymentRefunded,
  kStockLevelChanged,
};

struct TypeInfo {
  Kind kind = Kind::kOther;
  std::uint32_t index = 0;  // into contracts::all_types(), so an id remembers its type in 4 bytes
};

using TypeTable = std::unordered_map<std::string_view, TypeInfo>;

TypeTable make_type_table() {
  TypeTable table;
  const auto& types = contracts::all_types();
  for (std::uint32_t i = 0; i < types.size(); ++i) {
    table.emplace(types[i], TypeInfo{Kind::kOther, i});
  }
  const std::pair<std::string_view, Kind> read[] = {
      {ord::OrderPlacedV1::kType, Kind::kOrderPlaced},
      {ord::OrderConfirmedV1::kType, Kind::kOrderConfirmed},
      {ord::OrderRejectedV1::kType, Kind::kOrderRejected},
      {ord::OrderCancelledV1::kType, Kind::kOrderCancelled},
      {ord::OrderStatusChangedV1::kType, Kind::kOrderStatusChanged},
      {ord::OrderAwaitingPaymentV1::kType, Kind::kOrderAwaitingPayment},
      {ord::OrderRefundedV1::kType, Kind::kOrderRefunded},
      {pay::PaymentChargedV1::kType, Kind::kPaymentCharged},
      {pay::PaymentRefundedV1::kType, Kind::kPaymentRefunded},
      {inv::StockLevelChangedV1::kType, Kind::kStockLevelChanged},
  };
  for (const auto& [type, kind] : read) table.at(type).kind = kind;
  return table;
}

// nullopt for a type schemas/ does not know.
std::optional<TypeInfo> type_of(std::string_view type) {
  static const TypeTable table = make_type_table();
  const auto it = table.find(type);
  if (it == table.end()) return std::nullopt;
  return it->second;
}

// A dead-letter topic holds copies of records still on their own topic (or, for an oversized
// one, a reference to it): reading them would see every dead-lettered event twice.
bool is_dead_letter(std::string_view topic) {
  static const std::string prefix = contracts::dead_letter_topic("");
  return topic.starts_with(prefix);
}

// Where a record is, in 16 bytes instead of its where() string: the topic is an index into
// the auditor's topic names.
struct Position {
  std::uint32_t topic = 0;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

struct Step {
  Status status = Status::kPlaced;
  Position at;
};

struct Conflict {
  Step before;
  Step after;
};

struct Charge {
  std::string payment_id;
  std::int64_t amount = 0;
  Position at;
};

struct Refund {
  std::int64_t amount = 0;
  Position at;
};

struct OrderFacts {
  bool tracked = false;  // placed, or rejected at placement, within the records read
  std::int64_t placed_ms = 0;
  std::optional<std::int64_t> total;
  std::optional<Step> last;          // its last status
  std::optional<Step> outcome;       // its latest CONFIRMED, REJECTED or CANCELLED
  std::optional<Conflict> conflict;  // the first outcome the saga cannot reach from the one before
  std::vector<Charge> charges;       // one per payment_id
  std::optional<Refund> refund;      // the largest PaymentRefunded
  std::int64_t payment_due_ms = 0;   // the latest end of a payment window it waited for
  std::int64_t admin_refunded = 0;   // the largest refunded_total of its OrderRefunded events
};

struct ProductFacts {
  std::size_t broken = 0;  // stock levels that broke conservation
  Position first;
  Position last;
  std::string detail;  // of the first
};

struct IdSeen {
  std::uint64_t payload_hash = 0;
  std::uint32_t type = 0;
  Position first;
};

struct UuidHash {
  std::size_t operator()(const events::Uuid& id) const noexcept {
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    std::memcpy(&high, id.bytes.data(), sizeof high);
    std::memcpy(&low, id.bytes.data() + sizeof high, sizeof low);
    // The table mixes the result further; folding both halves keeps every bit in play.
    return static_cast<std::size_t>(high ^ (low * 0x9e3779b97f4a7c15ULL));
  }
};

// The splitmix64 finaliser: every input bit moves about half of the output bits.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t text_hash(std::string_view text) {
  return std::hash<std::string_view>{}(text);
}

// A 64-bit fingerprint of a payload's content: equal for the same JSON whatever its key order,
// so a payload serialised again is no false alarm. Boost.JSON's own hash XORs weakly mixed
// member hashes, and two changed members can cancel out; here every member is fully mixed
// before the order-free sum.
std::uint64_t content_hash(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null:
      return mix(1);
    case boost::json::kind::bool_:
      return mix(v.get_bool() ? 2 : 3);
    case boost::json::kind::int64:
      return mix(mix(4) ^ static_cast<std::uint64_t>(v.get_int64()));
    case boost::json::kind::uint64: {
      // 7 parsed as unsigned or as signed is the same number.
      const std::uint64_t n = v.get_uint64();
      return n <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                 ? mix(mix(4) ^ n)
                 : mix(mix(5) ^ n);
    }
    case boost::json::kind::double_:
      return mix(mix(6) ^ std::bit_cast<std::uint64_t>(v.get_double()));
    case boost::json::kind::string:
      return mix(mix(7) ^ text_hash(v.get_string()));
    case boost::json::kind::array: {
      std::uint64_t h = mix(8 + v.get_array().size());
      for (const auto& item : v.get_array()) h = mix(h ^ content_hash(item));
      return h;
    }
    case boost::json::kind::object: {
      std::uint64_t sum = 0;
      for (const auto& member : v.get_object()) {
        sum += mix(text_hash(member.key()) ^ mix(content_hash(member.value()) + 9));
      }
      return mix(mix(10 + v.get_object().size()) ^ sum);
    }
  }
  return 0;
}

// Checked sums: a corrupt payload must not make the audit itself overflow.
std::optional<std::int64_t> plus(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return std::nullopt;
  return sum;
}

std::optional<std::int64_t> minus(std::int64_t a, std::int64_t b) {
  std::int64_t difference = 0;
  if (__builtin_sub_overflow(a, b, &difference)) return std::nullopt;
  return difference;
}

// What is wrong with a stock level, or nullopt when on_hand = available + reserved + sold and
// none is negative.
std::optional<std::string> stock_problem(std::int64_t on_hand, std::int64_t available,
                                         std::int64_t reserved, std::int64_t sold) {
  const std::pair<const char*, std::int64_t> parts[] = {
      {"available", available}, {"reserved", reserved}, {"sold", sold}};
  for (const auto& [name, value] : parts) {
    if (value < 0) return std::string(name) + " is " + std::to_string(value) + ", below 0";
  }
  const auto both = plus(available, reserved);
  const auto sum = both ? plus(*both, sold) : std::nullopt;
  if (sum && *sum == on_hand) return std::nullopt;
  return "on_hand " + std::to_string(on_hand) + " != available " + std::to_string(available) +
         " + reserved " + std::to_string(reserved) + " + sold " + std::to_string(sold);
}

std::int64_t time_ms(const events::Envelope& e, const Record& r) {
  if (const auto t = events::parse_rfc3339(e.time)) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
  }
  return r.timestamp_ms;
}

void note_status(OrderFacts& o, Status s, const Position& at) {
  o.last = Step{s, at};
  if (!order::is_outcome(s)) return;
  // CONFIRMED then CANCELLED is a refund; any other change of outcome means the saga
  // decided twice.
  if (o.outcome && !o.conflict && !order::may_follow(o.outcome->status, s)) {
    o.conflict = Conflict{*o.outcome, Step{s, at}};
  }
  o.outcome = Step{s, at};
}

std::string status_name(Status s) {
  return std::string(order::to_string(s));
}

}  // namespace

struct Auditor::State {
  explicit State(std::chrono::milliseconds settle) : settle_ms(settle.count()) {}

  std::int64_t settle_ms;
  std::vector<std::string> topics;
  std::size_t events = 0;
  std::size_t duplicates = 0;
  std::size_t payloads = 0;  // payloads read: first sightings of the types the audit reads
  boost::unordered_flat_map<events::Uuid, IdSeen, UuidHash> uuid_ids;
  std::unordered_map<std::string, IdSeen> other_ids;          // ce_ids that are no canonical UUID
  std::unordered_map<std::string, std::size_t> id_conflicts;  // ce_id -> index in `found`
  std::unordered_map<std::string, OrderFacts> orders;
  std::unordered_map<std::string, ProductFacts> products;
  std::vector<Violation> found;  // while reading: repeated ids and unreadable payloads

  Position position_of(const Record& r) {
    std::uint32_t index = 0;
    while (index < topics.size() && topics[index] != r.topic) ++index;
    if (index == topics.size()) topics.push_back(r.topic);
    return Position{index, r.partition, r.offset};
  }

  // The form of Record::where(), rebuilt from a Position.
  std::string where(const Position& p) const {
    return topics[p.topic] + "/" + std::to_string(p.partition) + "@" + std::to_string(p.offset);
  }

  // Whether this is the first event with its ce_id; a repeat is counted, and flagged when its
  // type or payload differs from the first.
  bool first_sight(const events::Envelope& e, const TypeInfo& type, const Position& at) {
    const IdSeen now{content_hash(e.data), type.index, at};
    IdSeen* seen = nullptr;
    if (const auto uuid = events::Uuid::parse(e.id)) {
      const auto [it, inserted] = uuid_ids.try_emplace(*uuid, now);
      if (inserted) return true;
      seen = &it->second;
    } else {
      const auto [it, inserted] = other_ids.try_emplace(e.id, now);
      if (inserted) return true;
      seen = &it->second;
    }
    if (seen->type == now.type && seen->payload_hash == now.payload_hash) {
      ++duplicates;
      return false;
    }
    const auto [it, inserted] = id_conflicts.try_emplace(e.id, found.size());
    if (inserted) {
      const auto& types = contracts::all_types();
      std::string detail = seen->type == now.type
                               ? "same type " + e.type + ", different payload"
                               : "type " + std::string(types[seen->type]) + ", then " + e.type;
      found.push_back(
          Violation{invariant::kUniqueEventIds, e.id, std::move(detail), {where(seen->first)}});
    }
    found[it->second].records.push_back(where(at));
    return false;
  }

  // Reads every field before changing anything, so an unreadable payload leaves no trace.
  void read(Kind kind, const events::Envelope& e, const Record& r, const Position& at) {
    if (kind == Kind::kOther) return;
    ++payloads;
    const auto f = events::Fields::of(e.data);
    if (kind == Kind::kStockLevelChanged) return read_stock(f, at);
    std::string order_id = f.string("order_id");
    switch (kind) {
      case Kind::kOrderPlaced: {
        const std::int64_t total = f.int64("total");
        OrderFacts& o = orders[std::move(order_id)];
        o.tracked = true;
        o.placed_ms = time_ms(e, r);
        o.total = total;
        if (!o.last) o.last = Step{Status::kPlaced, at};
        return;
      }
      case Kind::kOrderConfirmed: {
        const std::int64_t total = f.int64("total");
        OrderFacts& o = orders[std::move(order_id)];
        o.total = total;
        return note_status(o, Status::kConfirmed, at);
      }
      case Kind::kOrderRejected: {
        OrderFacts& o = orders[std::move(order_id)];
        // Rejected at placement: no OrderPlaced comes, and this is when it was placed.
        if (!o.tracked) {
          o.tracked = true;
          o.placed_ms = time_ms(e, r);
        }
        return note_status(o, Status::kRejected, at);
      }
      case Kind::kOrderCancelled:
        return note_status(orders[std::move(order_id)], Status::kCancelled, at);
      case Kind::kOrderStatusChanged: {
        const std::string name = f.string("status");
        const auto status = order::status_from_string(name);
        if (!status) {
          throw events::PermanentError("payload field " + f.path_of("status") +
                                       " must be an order status, not \"" + name + "\"");
        }
        return note_status(orders[std::move(order_id)], *status, at);
      }
      case Kind::kOrderAwaitingPayment: {
        // Waiting for its buyer, the order may stay open until its payment window closes.
        const auto due = events::parse_rfc3339(f.string("due_at"));
        auto& o = orders[std::move(order_id)];
        if (due) {
          o.payment_due_ms = std::max(
              o.payment_due_ms,
              std::chrono::duration_cast<std::chrono::milliseconds>(due->time_since_epoch())
                  .count());
        }
        return;
      }
      case Kind::kOrderRefunded: {
        // An admin gave money back: a kept order then holds its total less this.
        auto& o = orders[std::move(order_id)];
        o.admin_refunded = std::max(o.admin_refunded, f.int64("refunded_total"));
        return;
      }
      case Kind::kPaymentCharged: {
        std::string payment_id = f.string("payment_id");
        const std::int64_t amount = f.int64("amount");
        auto& charges = orders[std::move(order_id)].charges;
        // A repeated ChargePayment is answered with the same payment again: it counts once.
        const bool known = std::any_of(charges.begin(), charges.end(),
                                       [&](const Charge& c) { return c.payment_id == payment_id; });
        if (!known) charges.push_back(Charge{std::move(payment_id), amount, at});
        return;
      }
      case Kind::kPaymentRefunded: {
        const std::int64_t amount = f.int64("amount");
        auto& refund = orders[std::move(order_id)].refund;
        // Each refund reports the order's refunded total so far: the largest is the total.
        if (!refund || amount > refund->amount) refund = Refund{amount, at};
        return;
      }
      case Kind::kOther:
      case Kind::kStockLevelChanged:
        return;
    }
  }

  void read_stock(const events::Fields& f, const Position& at) {
    std::string product_id = f.string("product_id");
    auto problem = stock_problem(f.int64("on_hand"), f.int64("available"), f.int64("reserved"),
                                 f.int64("sold"));
    ProductFacts& p = products[std::move(product_id)];
    if (!problem) return;
    if (p.broken++ == 0) {
      p.first = at;
      p.detail = std::move(*problem);
    }
    p.last = at;
  }

  void judge_product(const std::string& id, const ProductFacts& p, AuditReport& report) const {
    if (p.broken == 0) return;
    Violation v{invariant::kStockConserved, id, p.detail, {where(p.first)}};
    if (p.broken > 1) {
      v.detail += "; " + std::to_string(p.broken) +
                  " of its stock levels broke it, the first and last are named";
      v.records.push_back(where(p.last));
    }
    report.violations.push_back(std::move(v));
  }

  void judge_order(const std::string& id, const OrderFacts& o, std::int64_t now_ms,
                   AuditReport& report) const {
    ++report.orders;
    if (o.conflict) {
      report.violations.push_back(
          Violation{invariant::kOneOutcome,
                    id,
                    status_name(o.conflict->before.status) + ", then " +
                        status_name(o.conflict->after.status) +
                        ": the saga never moves from one outcome to the other",
                    {where(o.conflict->before.at), where(o.conflict->after.at)}});
    }
    const std::int64_t age_ms = now_ms - o.placed_ms;
    // An order waiting for its buyer's payment has until its window closes, plus the settle time.
    const bool settling = age_ms < settle_ms || now_ms < o.payment_due_ms + settle_ms;
    const bool settled = o.last && order::is_settled(o.last->status);
    if (!settled && settling) {
      ++report.pending;
      return;
    }
    ++report.checked[invariant::kOneOutcome];
    if (!settled) {
      report.violations.push_back(
          Violation{invariant::kOneOutcome,
                    id,
                    "still " + status_name(o.last->status) + " " + std::to_string(age_ms / 1000) +
                        "s after placement (settle time " + std::to_string(settle_ms / 1000) + "s)",
                    {where(o.last->at)}});
      return;
    }
    // Inside its settle time a settled order may still see a late charge and its refund.
    if (settling) return;
    judge_money(id, o, report);
  }

  void judge_money(const std::string& id, const OrderFacts& o, AuditReport& report) const {
    const Status final_status = o.last->status;
    const bool kept = final_status == Status::kConfirmed || final_status == Status::kShipped ||
                      final_status == Status::kDelivered;
    // Confirmed without a total read (its placement lies before the records): nothing to hold
    // the money against.
    if (kept && !o.total) return;
    ++report.checked[invariant::kMoneyBalances];
    // A kept order holds its total less what admins refunded of it; any other order nothing.
    const std::int64_t expected = kept ? *o.total - o.admin_refunded : 0;
    std::optional<std::int64_t> charged = 0;
    for (const Charge& c : o.charges) charged = charged ? plus(*charged, c.amount) : std::nullopt;
    const std::int64_t refunded = o.refund ? o.refund->amount : 0;
    const auto net = charged ? minus(*charged, refunded) : std::nullopt;
    if (net && *net == expected) return;

    Violation v{invariant::kMoneyBalances, id, {}, {}};
    v.detail = "charged " + (charged ? std::to_string(*charged) : std::string("(overflow)")) +
               " - refunded " + std::to_string(refunded) + " = " +
               (net ? std::to_string(*net) : std::string("(overflow)")) + ", expected " +
               std::to_string(expected) + " as " + status_name(final_status);
    for (const Charge& c : o.charges) v.records.push_back(where(c.at));
    if (o.refund) v.records.push_back(where(o.refund->at));
    v.records.push_back(where(o.last->at));
    report.violations.push_back(std::move(v));
  }
};

Auditor::Auditor(std::chrono::milliseconds settle_time)
    : state_(std::make_unique<State>(settle_time)) {}
Auditor::~Auditor() = default;
Auditor::Auditor(Auditor&&) noexcept = default;
Auditor& Auditor::operator=(Auditor&&) noexcept = default;

void Auditor::add(const Record& r) {
  if (!r.event || is_dead_letter(r.topic)) return;
  const events::Envelope& e = *r.event;
  const auto type = type_of(e.type);
  if (!type) return;
  State& s = *state_;
  ++s.events;
  const Position at = s.position_of(r);
  // Consumers' inboxes drop a repeated ce_id, so a repeat changes no state here either.
  if (!s.first_sight(e, *type, at)) return;
  try {
    s.read(type->kind, e, r, at);
  } catch (const events::PermanentError& error) {
    // Such a record went to a dead-letter topic; it is named here, and the audit goes on.
    s.found.push_back(Violation{
        invariant::kValidPayload, e.subject, e.type + ": " + error.what(), {s.where(at)}});
  }
}

AuditReport Auditor::finish(std::chrono::system_clock::time_point now) const {
  const State& s = *state_;
  AuditReport report;
  report.events = s.events;
  report.duplicates = s.duplicates;
  report.products = s.products.size();
  report.checked[invariant::kOneOutcome] = 0;
  report.checked[invariant::kMoneyBalances] = 0;
  report.checked[invariant::kStockConserved] = s.products.size();
  report.checked[invariant::kUniqueEventIds] = s.uuid_ids.size() + s.other_ids.size();
  report.checked[invariant::kValidPayload] = s.payloads;
  report.violations = s.found;

  for (const auto& [id, p] : s.products) s.judge_product(id, p, report);
  const std::int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  for (const auto& [id, o] : s.orders) {
    if (o.tracked) s.judge_order(id, o, now_ms, report);
  }
  std::stable_sort(report.violations.begin(), report.violations.end(),
                   [](const Violation& a, const Violation& b) {
                     return std::tie(a.invariant, a.subject) < std::tie(b.invariant, b.subject);
                   });
  return report;
}

}  // namespace bazaar::ctl
