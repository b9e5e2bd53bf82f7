#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "events/clock.hpp"
#include "events/envelope.hpp"
#include "events/errors.hpp"
#include "events/storable.hpp"

namespace soci {
class session;
}

namespace bazaar::events {

class EnvelopeFactory;
class OutboxWriter;

/// Writes an event to `outbox` inside its open transaction: stamped by `factory`, caused by
/// `cause` when there is one (causation and trace carry over, and its correlation unless
/// `correlation` names one). Returns the envelope written.
Envelope emit(OutboxWriter& outbox, const EnvelopeFactory& factory, std::string_view topic,
              std::string key, std::string type, boost::json::object payload,
              const Envelope* cause = nullptr, std::string correlation = {});

/// emit() for a payload generated from schemas/ (it names its own type).
template <typename Payload>
Envelope emit(OutboxWriter& outbox, const EnvelopeFactory& factory, std::string_view topic,
              std::string key, const Payload& payload, const Envelope* cause = nullptr,
              std::string correlation = {}) {
  return emit(outbox, factory, topic, std::move(key), Payload::kType, payload.to_json(), cause,
              std::move(correlation));
}

/// What a handler gets for one event: the event, the open transaction, and the outbox of that
/// transaction.
struct HandlerContext {
  const Envelope& event;
  soci::session& sql;
  OutboxWriter& outbox;
  const EnvelopeFactory& factory;  ///< stamps the events this one causes
  const Clock& clock;
  /// Side effects outside the database (a log sink, a WebSocket push) registered with
  /// after_commit() run only once the transaction committed, never for a rolled-back try.
  std::vector<std::function<void()>>* on_commit = nullptr;

  void after_commit(std::function<void()> effect) const {
    if (on_commit != nullptr) on_commit->push_back(std::move(effect));
  }

  /// Writes an event caused by this one to this transaction's outbox, keyed by `key`.
  Envelope emit(std::string_view topic, std::string key, std::string type,
                boost::json::object payload) const {
    return events::emit(outbox, factory, topic, std::move(key), std::move(type), std::move(payload),
                        &event);
  }
  template <typename Payload>
  Envelope emit(std::string_view topic, std::string key, const Payload& payload) const {
    return emit(topic, std::move(key), Payload::kType, payload.to_json());
  }
};

/// For a record that may have overtaken the one it depends on (they travel on different
/// topics): throws TransientError, so it is retried, while the record is younger than `grace`
/// by its ce_time; afterwards returns and the caller decides (usually: reject it).
void retry_while_recent(const HandlerContext& ctx, std::chrono::milliseconds grace,
                        const std::string& why);

/// The id in `field` of a refused record's payload, to name in its rejection event: a
/// PermanentError (a dead letter) when it holds no canonical UUID, since a rejection must name
/// the aggregate it is about.
std::string refused_id(const HandlerContext& ctx, std::string_view field);
/// refused_id() of the first of `fields` that holds one, or empty (an optional actor).
std::string refused_id_or_empty(const HandlerContext& ctx,
                                std::initializer_list<std::string_view> fields);

/// A service's part of the handler shape: the decision and its SQL. Everything around it
/// (decode, validate, inbox, transaction, offsets, retries, dead letters) is the Processor's.
class Handler {
 public:
  virtual ~Handler() = default;
  /// Event types this handler applies; the others are acknowledged and skipped.
  virtual bool wants(const std::string& type) const = 0;
  /// Applies one event inside the open transaction. Database errors propagate (transient
  /// ones are retried); PermanentError sends the event to the dead-letter topic.
  virtual void apply(HandlerContext& ctx) = 0;
  /// Whether several records may share one transaction. A handler that locks rows shared
  /// across aggregates in a fixed order says no, unless lock_ahead() takes every lock of a
  /// batch up front: applied one after another, the records would lock them in poll order and
  /// could deadlock with another instance.
  virtual bool batchable() const { return true; }
  /// Several records are about to share the open transaction (called after begin(), before
  /// the first is applied): a handler whose records lock rows shared across aggregates locks
  /// all of the batch's here, in its fixed order (inventory: reservations, then stock, each
  /// sorted). The records may still be refused or dead-lettered afterwards.
  virtual void lock_ahead(soci::session& /*sql*/, const std::vector<const Envelope*>& /*batch*/) {}
  /// A transaction for one or more records begins: work gathered across records (see
  /// before_commit) starts empty, whatever a rolled-back try left.
  virtual void begin(soci::session& /*sql*/) {}
  /// The last record of the transaction was applied and it is about to commit: a handler that
  /// gathers work across its records (analytics' counters, inventory's stock levels) writes it
  /// here, in the same transaction, and may add the events it held back to its outbox.
  virtual void before_commit(soci::session& /*sql*/, OutboxWriter& /*outbox*/) {}
  /// Whether a record of `type` that holds a value no column can hold (find_unstorable) is
  /// answered by refuse() with this service's rejection event: commands, whose senders expect
  /// an answer. Any other such record is dead-lettered (reason `invalid_value`).
  virtual bool refuses(const std::string& /*type*/) const { return false; }
  /// Writes the rejection event of such a record to the open transaction instead of applying
  /// it; called only for types refuses() names.
  virtual void refuse(HandlerContext& /*ctx*/, const UnstorableValue& /*value*/) {}
};

/// A Handler written as a dispatch table: each event type it applies is registered once with
/// on(), and wants() follows from the table. A function that takes a payload generated from
/// schemas/ gets it decoded (a missing or mistyped field is a PermanentError naming it).
template <typename Derived>
class DispatchHandler : public Handler {
 public:
  bool wants(const std::string& type) const final { return table_.contains(type); }
  void apply(HandlerContext& ctx) final {
    const auto it = table_.find(ctx.event.type);
    if (it != table_.end()) it->second(static_cast<Derived&>(*this), ctx);
  }
  bool refuses(const std::string& type) const final { return refusals_.contains(type); }
  void refuse(HandlerContext& ctx, const UnstorableValue& value) final {
    const auto it = refusals_.find(ctx.event.type);
    if (it != refusals_.end()) (static_cast<Derived&>(*this).*(it->second))(ctx, value);
  }

 protected:
  /// Applies `Payload::kType` with `fn`, the payload decoded.
  template <typename Payload>
  void on(void (Derived::*fn)(HandlerContext&, const Payload&)) {
    table_.emplace(Payload::kType, [fn](Derived& self, HandlerContext& ctx) {
      (self.*fn)(ctx, Payload::from(ctx.event.data));
    });
  }
  /// Applies `type` with `fn`, which reads the payload itself (one function for several types).
  void on(std::string type, void (Derived::*fn)(HandlerContext&)) {
    table_.emplace(std::move(type), [fn](Derived& self, HandlerContext& ctx) { (self.*fn)(ctx); });
  }
  /// Applies the command `Payload::kType` with `fn`, and answers one holding a value no column
  /// can hold with `refusal`, which writes the service's rejection event instead.
  template <typename Payload>
  void on(void (Derived::*fn)(HandlerContext&, const Payload&),
          void (Derived::*refusal)(HandlerContext&, const UnstorableValue&)) {
    on(fn);
    refusals_.emplace(Payload::kType, refusal);
  }

 private:
  using RefusalFn = void (Derived::*)(HandlerContext&, const UnstorableValue&);
  std::map<std::string, std::function<void(Derived&, HandlerContext&)>, std::less<>> table_;
  std::map<std::string, RefusalFn, std::less<>> refusals_;
};

}  // namespace bazaar::events
