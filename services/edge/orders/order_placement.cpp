#include "orders/order_placement.hpp"

#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <chrono>
#include <map>

#include "catalog/money.hpp"
#include "events/db.hpp"
#include "http/prefer.hpp"
#include "http/problem.hpp"
#include "orders/keyed_transaction.hpp"
#include "orders/order_wait.hpp"
#include "pricing.hpp"

namespace bazaar::edge {
namespace {

// The products placements name, planned on every run for several (see BatchStatement).
const events::BatchStatement kProducts{"edge_placement_products", R"sql(
SELECT product_id::text, price, currency, status FROM products_view
WHERE product_id = ANY (CAST($1 AS uuid[])))sql"};

// Orders, their lines and their first steps in one statement: the foreign keys of the lines and
// the steps are checked at its end, when the order rows are there.
const events::PreparedStatement kInsertOrders{"edge_placement_insert_many", R"sql(
WITH placed AS (
  INSERT INTO orders_view (order_id, buyer_id, status, total, currency, payment_token,
                           created_at, updated_at)
  SELECT o.id, o.buyer, 'PLACED', o.total, o.currency, NULLIF(o.token, ''), o.at, o.at
  FROM unnest(CAST($1 AS uuid[]), CAST($2 AS uuid[]), CAST($3 AS bigint[]), CAST($4 AS text[]),
              CAST($5 AS text[]), CAST($6 AS timestamptz[]))
       AS o (id, buyer, total, currency, token, at)),
lines AS (
  INSERT INTO order_lines_view (order_id, line_no, product_id, quantity, unit_price)
  SELECT l.id, l.no, l.product_id, l.quantity, l.price
  FROM unnest(CAST($7 AS uuid[]), CAST($8 AS integer[]), CAST($9 AS uuid[]),
              CAST($10 AS bigint[]), CAST($11 AS bigint[]))
       AS l (id, no, product_id, quantity, price))
INSERT INTO order_steps_view (order_id, seq, at, status, previous_status)
SELECT o.id, 0, o.at, 'PLACED', 'PLACED'
FROM unnest(CAST($1 AS uuid[]), CAST($6 AS timestamptz[])) AS o (id, at))sql"};

// Placements batched at once: more would hold the first ones' answers back longer than their
// statements gain.
constexpr std::size_t kMaxBatch = 64;
// Batches in the database at once: one being written while the next is gathered and priced.
constexpr int kMaxLeaders = 2;

std::int64_t micros_of(events::Clock::time_point t) {
  // Milliseconds, as the database stores the RFC 3339 text it is given.
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() * 1000;
}

// What products_view says of a product a line names.
struct OnSale {
  long long price = 0;
  std::string currency;
  bool active = false;
};
using ProductLookup = std::function<std::optional<OnSale>(const std::string& product_id)>;

// The order a placement asks for, priced, or the problem to answer instead.
struct Priced {
  std::optional<HttpResponse> problem;
  OrderView view;
};

// Prices are a preview: the order service captures its own when it places the order, and
// OrderPlaced brings them to the view. Its pricing rules are applied here too, so that edge
// refuses what it would reject.
Priced price_placement(const std::vector<PlaceLine>& lines, const ProductLookup& find) {
  Priced out;
  std::vector<FieldError> errors;
  std::vector<order::RequestedLine> requested;
  std::map<std::string, order::KnownProduct> known;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const PlaceLine& line = lines[i];
    const std::optional<OnSale> product = find(line.product_id);
    if (!product || !product->active) {
      errors.push_back({"lines/" + std::to_string(i) + "/product_id", "is not a product on sale"});
      continue;
    }
    order::KnownProduct k;
    k.price = product->price;
    k.currency = product->currency;
    known[line.product_id] = k;
    requested.push_back({line.product_id, line.quantity});
  }
  const order::Pricing pricing = order::price_order(requested, known);
  if (errors.empty() && !pricing.rejection.empty()) {
    errors.push_back({"lines", pricing.rejection == "mixed_currency"
                                   ? "must all be priced in one currency"
                                   : "cannot be priced: " + pricing.rejection});
  }
  if (!errors.empty()) {
    std::string detail;
    for (const auto& e : errors) detail += (detail.empty() ? "" : "; ") + e.field + " " + e.reason;
    out.problem = problem(422, "Unprocessable Content", detail, errors);
    return out;
  }
  for (const auto& l : pricing.lines)
    out.view.lines.push_back({l.product_id, l.quantity, l.unit_price});
  out.view.total = pricing.total;
  out.view.currency = pricing.currency;
  return out;
}

// Gives a priced order its id, buyer, token and time of placement, and returns its PlaceOrder.
contracts::order::PlaceOrderV1 stamp(OrderView& view, std::string order_id,
                                     const std::string& buyer_id,
                                     const std::optional<std::string>& payment_token,
                                     events::Clock::time_point now) {
  view.id = std::move(order_id);
  view.buyer_id = buyer_id;
  view.status = "PLACED";
  view.payment_token = payment_token.value_or("");
  view.created_us = view.updated_us = micros_of(now);
  view.steps = std::vector<OrderStep>{{"PLACED", "PLACED", "", view.created_us}};
  contracts::order::PlaceOrderV1 command{
      .order_id = view.id, .buyer_id = buyer_id, .lines = {}, .payment_token = payment_token};
  for (const auto& l : view.lines) command.lines.push_back({l.product_id, l.quantity});
  return command;
}

// What products_view says of the products `rows` (kProducts' answer) names.
ProductLookup on_sale(const events::PreparedRows& rows) {
  auto found = std::make_shared<std::map<std::string, OnSale>>();
  for (int i = 0; i < rows.size(); ++i) {
    (*found)[rows.text(i, 0)] =
        OnSale{rows.integer(i, 1), rows.text(i, 2), rows.text(i, 3) == "active"};
  }
  return [found](const std::string& id) -> std::optional<OnSale> {
    const auto it = found->find(id);
    if (it == found->end()) return std::nullopt;
    return it->second;
  };
}

// The distinct products of `lines`, as the text array kProducts takes.
std::string products_of(const std::vector<const std::vector<PlaceLine>*>& lines) {
  std::vector<std::string> ids;
  for (const auto* each : lines) {
    for (const auto& l : *each) ids.push_back(l.product_id);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return events::pg_text_array(ids);
}

// Placed orders as kInsertOrders' columns.
class OrderRows {
 public:
  void add(const OrderView& view, events::Clock::time_point at) {
    ids_.push_back(view.id);
    buyers_.push_back(view.buyer_id);
    totals_.push_back(view.total);
    currencies_.push_back(view.currency);
    tokens_.push_back(view.payment_token);
    times_.push_back(events::format_rfc3339(at));
    for (std::size_t i = 0; i < view.lines.size(); ++i) {
      line_orders_.push_back(view.id);
      line_numbers_.push_back(static_cast<long long>(i));
      line_products_.push_back(view.lines[i].product_id);
      quantities_.push_back(view.lines[i].quantity);
      prices_.push_back(view.lines[i].unit_price);
    }
  }
  bool empty() const { return ids_.empty(); }
  void write(soci::session& sql) const {
    const std::vector<std::string> values{
        events::pg_text_array(ids_),           events::pg_text_array(buyers_),
        events::pg_int_array(totals_),         events::pg_text_array(currencies_),
        events::pg_text_array(tokens_),        events::pg_text_array(times_),
        events::pg_text_array(line_orders_),   events::pg_int_array(line_numbers_),
        events::pg_text_array(line_products_), events::pg_int_array(quantities_),
        events::pg_int_array(prices_)};
    std::vector<const std::string*> pointers;
    for (const auto& v : values) pointers.push_back(&v);
    kInsertOrders.run(sql, pointers);
  }

 private:
  std::vector<std::string> ids_, buyers_, currencies_, tokens_, times_, line_orders_,
      line_products_;
  std::vector<long long> totals_, line_numbers_, quantities_, prices_;
};

}  // namespace

HttpResponse order_answer(int status, const OrderView& order) {
  return json_response(status, to_json_text(boost::json::value(to_json(order, true))));
}

OrderPlacement::OrderPlacement(ApiContext& api)
    : api_(api), ids_(api.clock, events::system_random()) {}

HttpResponse OrderPlacement::place(const RequestContext& ctx, const boost::json::object& body,
                                   const std::optional<std::string>& payment_token,
                                   const LineSource& source, const AfterPlaced& after) {
  const Principal& buyer = *ctx.principal;
  bool replayed = false;
  std::string order_id;
  AdmissionTicket admitted;
  HttpResponse answer;
  try {
    answer = run_keyed(
        api_, ctx, body,
        [&](soci::session& sql, events::OutboxWriter& out) -> HttpResponse {
          order_id.clear();  // a transaction retried after a dropped connection starts afresh
          // Refused before any work when accepting it would blow the sagas' deadlines: the
          // transaction rolls back, so an Idempotency-Key stays free for the retry.
          // A broker that is away is the reason to give, before any estimate of the load.
          require_broker(api_);
          admit(sql, admitted);
          PlaceLines wanted = source(sql);
          if (wanted.problem) return *wanted.problem;
          const std::string products = products_of({&wanted.lines});
          Priced priced = price_placement(
              wanted.lines, on_sale(kProducts.rows(wanted.lines.size()).query(sql, {&products})));
          if (priced.problem) return *priced.problem;
          OrderView& view = priced.view;
          order_id = ids_.next().str();
          const auto now = api_.clock.now();
          const auto command = stamp(view, order_id, buyer.user_id, payment_token, now);
          OrderRows rows;
          rows.add(view, now);
          rows.write(sql);
          send_command(api_, out, command);
          if (after) after(sql);
          return order_answer(202, view);
        },
        replayed);
  } catch (...) {
    release(admitted);  // nothing was written
    throw;
  }
  if (order_id.empty()) release(admitted);
  return finish(ctx, body, std::move(answer), std::move(order_id), replayed);
}

void OrderPlacement::admit(soci::session& sql, AdmissionTicket& ticket) {
  if (api_.admission != nullptr) api_.admission->admit_one(sql, ticket);
}

void OrderPlacement::release(AdmissionTicket& ticket) {
  if (api_.admission != nullptr) api_.admission->release(ticket);
}

HttpResponse OrderPlacement::finish(const RequestContext& ctx, const boost::json::object& body,
                                    HttpResponse answer, std::string order_id, bool replayed) {
  if (answer.status != 202 && answer.status != 200) return answer;
  if (replayed) {
    // The stored answer has no headers: Location is rebuilt from the order it names.
    boost::system::error_code ec;
    const auto stored = boost::json::parse(answer.body, ec);
    if (!ec && stored.is_object() && stored.as_object().contains("id") &&
        stored.as_object().at("id").is_string()) {
      order_id = std::string(stored.as_object().at("id").get_string());
    }
  }
  if (order_id.empty()) return answer;
  const std::string location = "/orders/" + order_id;
  if (!replayed) {
    if (const auto wait = prefer_wait(ctx.request.header("prefer")); wait && *wait > 0) {
      bool answered = false;
      if (auto latest = wait_for_outcome(api_, order_id, *wait, answered)) {
        // An outcome is 200. An order still on its way, or waiting for its buyer to pay (placed
        // without a token, or its card declined with attempts left), is only accepted: 202,
        // shown as it is now rather than as it was placed.
        answer = order_answer(is_settled(latest->status) ? 200 : 202, *latest);
        if (answered) add_preference_applied(answer, *wait);
        // A repeat of the key answers what this request was answered.
        replace_keyed_answer(api_, ctx, body, answer);
      }
    }
  }
  answer.headers.emplace_back("Location", location);
  return answer;
}

HttpResponse OrderPlacement::place_lines(const RequestContext& ctx, const boost::json::object& body,
                                         const std::optional<std::string>& payment_token,
                                         const std::vector<PlaceLine>& lines) {
  const auto alone = [&] {
    return place(
        ctx, body, payment_token,
        [&lines](soci::session&) {
          return PlaceLines{lines, {}};
        },
        nullptr);
  };
  // A key's claim and stored answer belong to its own transaction.
  if (ctx.request.headers.contains("idempotency-key")) return alone();
  Job job{ctx.principal->user_id, lines, payment_token, {}, {}, nullptr, false, false, false};
  submit(job);
  if (job.error) std::rethrow_exception(job.error);
  if (job.alone) return alone();
  return finish(ctx, body, std::move(job.answer), std::move(job.order_id), false);
}

void OrderPlacement::submit(Job& job) {
  std::unique_lock lock(mutex_);
  const auto count_queued = [this] {
    if (api_.placements_queued != nullptr) {
      api_.placements_queued->Set(static_cast<double>(queued_.size()));
    }
  };
  queued_.push_back(&job);
  job.queued = true;
  count_queued();
  while (!job.done) {
    // Lead only while this placement still waits: one a batch took returns with that batch.
    if (leaders_ >= kMaxLeaders || !job.queued) {
      batch_done_.wait(lock);
      continue;
    }
    // This thread writes the placements waiting now, its own among them, then wakes them.
    const auto n = static_cast<std::ptrdiff_t>(std::min(queued_.size(), kMaxBatch));
    std::vector<Job*> batch;
    try {
      batch.assign(queued_.begin(), queued_.begin() + n);
    } catch (...) {
      std::erase(queued_, &job);  // the request ends here: nothing may point at it
      count_queued();
      throw;
    }
    queued_.erase(queued_.begin(), queued_.begin() + n);
    for (Job* j : batch) j->queued = false;
    ++leaders_;
    count_queued();
    lock.unlock();
    try {
      write_batch(batch);
    } catch (...) {
      for (Job* j : batch) j->alone = true;  // never left unanswered
    }
    lock.lock();
    for (Job* j : batch) j->done = true;
    --leaders_;
    batch_done_.notify_all();
  }
}

void OrderPlacement::write_batch(const std::vector<Job*>& jobs) {
  if (api_.placement_batches != nullptr) {
    api_.placement_batches->Observe(static_cast<double>(jobs.size()));
  }
  try {
    api_.db.transact_pipelined([&](soci::session& sql, events::Transaction& tx,
                                   events::OutboxWriter& out) {
      std::vector<const std::vector<PlaceLine>*> lines;
      std::size_t line_count = 0;
      for (Job* j : jobs) {
        // A transaction tried again after a dropped connection starts afresh.
        j->answer = {};
        j->order_id.clear();
        j->error = nullptr;
        lines.push_back(&j->lines);
        line_count += j->lines.size();
      }
      const std::string products = products_of(lines);
      const ProductLookup find = on_sale(kProducts.rows(line_count).query_first(tx, {&products}));
      OrderRows rows;
      for (Job* j : jobs) {
        try {
          // As alone: a broker away first, then the load (admission), each refusing this one.
          require_broker(api_);
          admit(sql, j->admitted);
        } catch (const DependencyUnavailable&) {
          j->error = std::current_exception();
          continue;
        }
        Priced priced = price_placement(j->lines, find);
        if (priced.problem) {
          j->answer = std::move(*priced.problem);
          release(j->admitted);  // at once: the rest of the batch may be admitted in its place
          continue;
        }
        OrderView& view = priced.view;
        const auto now = api_.clock.now();
        const auto command = stamp(view, ids_.next().str(), j->buyer_id, j->payment_token, now);
        try {
          send_command(api_, out, command);  // checks the broker again, before it adds a row
        } catch (const DependencyUnavailable&) {
          j->error = std::current_exception();
          continue;
        }
        rows.add(view, now);
        j->order_id = view.id;
        j->answer = order_answer(202, view);
      }
      if (!rows.empty()) rows.write(sql);
    });
  } catch (const DependencyUnavailable&) {
    // The database is away, or the COMMIT's fate unknown: every placement of the batch is a
    // 503, as alone, and none may be written again here.
    for (Job* j : jobs) {
      j->error = std::current_exception();
      j->order_id.clear();
    }
  } catch (const std::exception& e) {
    // Refused by the database (a row one placement broke): nothing committed, and each is
    // placed alone, where only that one fails.
    spdlog::warn("a batch of {} placements failed, each is placed alone: {}", jobs.size(),
                 events::error_summary(e));
    for (Job* j : jobs) {
      j->alone = true;
      j->order_id.clear();
    }
  }
  // Admitted and not written (its lines refused, the broker away, the batch failed): no
  // longer in flight.
  for (Job* j : jobs) {
    if (j->order_id.empty()) release(j->admitted);
  }
}

}  // namespace bazaar::edge
