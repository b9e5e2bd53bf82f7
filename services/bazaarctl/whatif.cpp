#include "whatif.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "contracts/contracts.hpp"
#include "events/errors.hpp"
#include "events/fields.hpp"
#include "order_record.hpp"
#include "refunds.hpp"
#include "saga_inputs.hpp"
#include "saga_messages.hpp"

namespace bazaar::ctl {
namespace {

namespace ord = contracts::order;
using order::Input;

bool emitted_by_order_service(const Record& r) {
  return r.event && r.event->source == "/bazaar/order";
}

std::int64_t at_ms(const Record& r) {
  const auto t = events::parse_rfc3339(r.event->time);
  return t ? std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count()
           : r.timestamp_ms;
}

// Everything recorded about one order.
struct History {
  const Record* place = nullptr;      ///< PlaceOrder
  const Record* placement = nullptr;  ///< OrderPlaced or OrderRejected as recorded
  std::vector<const Record*> inputs;  ///< commands and replies, in time order
  std::map<std::string, std::vector<const Record*>> outputs_by_cause;
  std::vector<const Record*> deadline_outputs;  ///< emitted with no cause: the scanner's
};

// The types sent for one input, sorted: records of several topics are read in no common
// order, so what counts is which messages were sent, not their interleaving across topics.
std::vector<std::string> types_of(const std::vector<const Record*>& records) {
  std::vector<std::string> out;
  for (const auto* r : records) out.push_back(r->event->type);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> types_of(const std::vector<order::Message>& messages) {
  std::vector<std::string> out;
  for (const auto& m : messages) out.push_back(m.type);
  std::sort(out.begin(), out.end());
  return out;
}

order::OrderRecord record_of(const History& h, const std::string& order_id) {
  order::OrderRecord o;
  o.order_id = order_id;
  const auto place = events::Fields::of(h.place->event->data);
  o.buyer_id = place.string("buyer_id");
  o.payment_token = place.optional_string("payment_token").value_or("");
  o.saga.has_token = !o.payment_token.empty();
  // The attempts allowed are the service's setting, not in PlaceOrder: a recorded wait for the
  // buyer tells them; with none recorded, a decline ended the order (one attempt).
  o.saga.max_attempts = 1;
  for (const auto& [cause, outputs] : h.outputs_by_cause) {
    for (const auto* r : outputs) {
      if (r->event->type != ord::OrderAwaitingPaymentV1::kType) continue;
      const auto f = events::Fields::of(r->event->data);
      o.saga.max_attempts = static_cast<int>(f.int64("attempts_used") + f.int64("attempts_left"));
    }
  }
  const auto placed = events::Fields::of(h.placement->event->data);
  o.total = placed.optional_int64("total").value_or(0);
  o.currency = placed.optional_string("currency").value_or("EUR");
  if (const auto* lines = placed.optional_array("lines")) {
    for (std::size_t i = 0; i < lines->size(); ++i) {
      const auto l = events::Fields::item(*lines, i, "lines");
      o.lines.push_back({l.string("product_id"), l.int64("quantity"),
                         l.optional_int64("unit_price").value_or(0),
                         l.optional_string("seller_id").value_or("")});
    }
  }
  return o;
}

}  // namespace

WhatIfReport what_if(const std::vector<Record>& records, const Decide& decide,
                     const std::optional<std::string>& only_order) {
  std::map<std::string, History> orders;
  std::set<std::string> seen;
  for (const auto& r : records) {
    if (!r.event || r.topic.starts_with("dlq.")) continue;
    const std::string& type = r.event->type;
    const std::string& id = r.event->correlation_id.empty() ? r.key : r.event->correlation_id;
    if (only_order && id != *only_order) continue;
    if (type == ord::PlaceOrderV1::kType) {
      orders[id].place = &r;
    } else if (emitted_by_order_service(r)) {
      History& h = orders[id];
      if (r.event->causation_id.empty()) {
        h.deadline_outputs.push_back(&r);
      } else {
        h.outputs_by_cause[r.event->causation_id].push_back(&r);
      }
    } else if (order::reply_input(type) || type == ord::CancelOrderV1::kType ||
               type == ord::PayOrderV1::kType || type == ord::AdvanceOrderStatusV1::kType ||
               type == ord::RefundOrderV1::kType) {
      // A repeated delivery (or a redriven copy) was applied once: the inbox dropped the rest.
      if (seen.insert(r.event->id).second) orders[id].inputs.push_back(&r);
    }
  }

  WhatIfReport report;
  for (auto& [order_id, h] : orders) {
    if (h.place == nullptr) continue;  // not placed in this history
    // The placement as recorded: what PlaceOrder caused (topics are read in no common order,
    // so it is found only once everything was read).
    for (const auto* r : h.outputs_by_cause[h.place->event->id]) {
      if (r->event->type == ord::OrderPlacedV1::kType ||
          r->event->type == ord::OrderRejectedV1::kType) {
        h.placement = r;
        break;
      }
    }
    if (h.placement == nullptr) continue;
    ++report.orders;
    // A placement the order service rejected (unpriceable) ran no saga.
    if (h.placement->event->type == ord::OrderRejectedV1::kType) continue;
    // Inputs in the order the service handled them: by the time of what each caused, then (one
    // batch, one millisecond) by where that went on order.events, whose partition holds every
    // event of the order in the order it was written; an input that caused nothing by its own
    // time. Two replies of one millisecond arrive in either order on different topics.
    std::map<const Record*, std::tuple<std::int64_t, std::int64_t, std::int64_t>> handled;
    for (const auto* input : h.inputs) {
      std::int64_t ms = at_ms(*input);
      std::int64_t offset = INT64_MAX;
      const auto caused = h.outputs_by_cause.find(input->event->id);
      if (caused != h.outputs_by_cause.end() && !caused->second.empty()) {
        ms = INT64_MAX;
        for (const auto* out : caused->second) {
          ms = std::min(ms, at_ms(*out));
          if (out->topic == contracts::topic::kOrderEvents) offset = std::min(offset, out->offset);
        }
      }
      handled[input] = {ms, offset, at_ms(*input)};
    }
    std::stable_sort(h.inputs.begin(), h.inputs.end(), [&](const Record* a, const Record* b) {
      return handled.at(a) < handled.at(b);
    });
    // Deadline steps are inputs too: each group of uncaused outputs at one moment is one.
    std::stable_sort(h.deadline_outputs.begin(), h.deadline_outputs.end(),
                     [](const Record* a, const Record* b) { return at_ms(*a) < at_ms(*b); });
    std::vector<std::pair<std::int64_t, std::vector<const Record*>>> deadlines;
    for (const auto* r : h.deadline_outputs) {
      if (deadlines.empty() || at_ms(*r) - deadlines.back().first > 50) {
        deadlines.push_back({at_ms(*r), {}});
      }
      deadlines.back().second.push_back(r);
    }

    order::OrderRecord o = record_of(h, order_id);
    auto step = [&](Input input, const std::string& reason, const std::string& name,
                    const std::string& where, const std::vector<const Record*>& recorded,
                    const std::string& trigger, int attempt = 0, bool refund_paid = false) {
      ++report.inputs;
      const order::Decision d = decide(o.saga, input, reason, attempt);
      // The placement's own events are compared separately; here only what the step adds.
      // Only the types are compared: the payment window's end is a placeholder. An admin
      // refund paid out is booked beside the saga (OrderRefunded), not decided by it.
      const auto would = order::decision_messages(o, d, trigger, "2000-01-01T00:00:00Z", 0);
      auto recorded_types = types_of(recorded);
      recorded_types.erase(
          std::remove_if(recorded_types.begin(), recorded_types.end(),
                         [&](const std::string& t) {
                           return t == ord::OrderPlacedV1::kType ||
                                  (refund_paid && t == ord::OrderRefundedV1::kType);
                         }),
          recorded_types.end());
      if (recorded_types != types_of(would)) {
        report.diffs.push_back({order_id, name, where, recorded_types, types_of(would)});
      }
      o.saga = d.saga;
    };
    // A command the service refuses before the saga sees it (not the caller's order): only
    // OrderCommandRejected, the saga unchanged.
    auto forbidden = [&](const std::string& type, const Record* r,
                         const std::vector<const Record*>& recorded) {
      const order::Decision refused{.saga = o.saga,
                                    .commands = {},
                                    .deadline = order::Deadline::kNone,
                                    .rejected = true,
                                    .awaiting_buyer = false,
                                    .note = "forbidden"};
      ++report.inputs;
      const auto would = order::decision_messages(o, refused, type, "", 0);
      if (types_of(recorded) != types_of(would)) {
        report.diffs.push_back({order_id, type, r->where(), types_of(recorded), types_of(would)});
      }
    };
    step(Input::kPlace, {}, ord::PlaceOrderV1::kType, h.place->where(),
         h.outputs_by_cause[h.place->event->id], ord::PlaceOrderV1::kType);
    std::size_t next_deadline = 0;
    std::int64_t refunded = 0;  // what the admin refunds so far asked back
    std::set<std::string> refund_ids;
    for (const auto* r : h.inputs) {
      while (next_deadline < deadlines.size() &&
             deadlines[next_deadline].first < std::get<0>(handled.at(r))) {
        const auto& [when, outputs] = deadlines[next_deadline++];
        step(Input::kDeadline, {}, "deadline", outputs.front()->where(), outputs, "deadline");
      }
      const auto fields = events::Fields::of(r->event->data);
      const std::string& type = r->event->type;
      const auto& recorded = h.outputs_by_cause[r->event->id];
      if (type == ord::CancelOrderV1::kType) {
        const std::string role = fields.optional_string("actor_role").value_or("");
        const bool allowed = role == "admin" ||
                             (role == "buyer" && fields.optional_string("actor_id") == o.buyer_id);
        if (!allowed) {
          forbidden(type, r, recorded);
          continue;
        }
        step(Input::kCancel, {}, type, r->where(), recorded, type);
      } else if (type == ord::PayOrderV1::kType) {
        // Only the buyer pays: anyone else is refused like a forbidden cancel.
        if (fields.optional_string("actor_id") != o.buyer_id) {
          forbidden(type, r, recorded);
          continue;
        }
        step(Input::kPay, {}, type, r->where(), recorded, type);
      } else if (type == ord::RefundOrderV1::kType) {
        // An admin's refund, planned by the service's own rule from what was refunded before.
        const std::string refund_id = fields.optional_string("refund_id").value_or("");
        if (fields.optional_string("actor_role") != "admin") {
          forbidden(type, r, recorded);
          continue;
        }
        if (!refund_ids.insert(refund_id).second) continue;  // asked again: ignored
        const order::RefundPlan plan =
            order::plan_refund(o.saga.status, o.total, refunded, fields.optional_int64("amount"));
        if (plan.kind == order::RefundPlan::Kind::kRefuse) {
          forbidden(type, r, recorded);
          continue;
        }
        refunded += plan.amount;
        if (plan.kind == order::RefundPlan::Kind::kCancelAndRefund) {
          step(Input::kCancel, "refunded", type, r->where(), recorded, type);
          continue;
        }
        ++report.inputs;
        const std::vector<std::string> would{contracts::payment::RefundPaymentV1::kType};
        if (types_of(recorded) != would) {
          report.diffs.push_back({order_id, type, r->where(), types_of(recorded), would});
        }
      } else if (type == ord::AdvanceOrderStatusV1::kType) {
        const bool ship = fields.optional_string("status") == "SHIPPED";
        step(ship ? Input::kShip : Input::kDeliver, {}, type, r->where(), recorded, type);
      } else {
        step(*order::reply_input(type), fields.optional_string("reason").value_or(""), type,
             r->where(), recorded, type,
             static_cast<int>(fields.optional_int64("attempt").value_or(0)),
             fields.optional_string("refund_id").has_value());
      }
    }
    while (next_deadline < deadlines.size()) {
      const auto& [when, outputs] = deadlines[next_deadline++];
      step(Input::kDeadline, {}, "deadline", outputs.front()->where(), outputs, "deadline");
    }
  }
  return report;
}

}  // namespace bazaar::ctl
