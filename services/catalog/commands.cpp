#include "commands.hpp"

#include <boost/json/value.hpp>
#include <limits>
#include <utility>

namespace bazaar::catalog {
namespace {

using events::Error;

std::optional<std::string> optional_string(const boost::json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

// Fields the schema requires are still checked: a handler must not crash on a contract that
// was loosened without telling it.
events::Result<std::string> required_string(const boost::json::object& o, const char* key) {
  if (auto s = optional_string(o, key)) return *std::move(s);
  return Error{"invalid", std::string("missing string field ") + key};
}

events::Result<std::int64_t> integer(const boost::json::value& v, const char* key) {
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= kMax) {
    return static_cast<std::int64_t>(v.get_uint64());
  }
  return Error{"invalid", std::string("field ") + key + " is not a 64-bit integer"};
}

events::Result<Actor> actor_of(const boost::json::object& o) {
  auto id = required_string(o, "actor_id");
  if (!id) return id.error();
  auto role_text = required_string(o, "actor_role");
  if (!role_text) return role_text.error();
  const auto role = parse_role(role_text.value());
  if (!role) return Error{"invalid", "unknown actor_role " + role_text.value()};
  return Actor{std::move(id).value(), *role};
}

}  // namespace

events::Result<CreateProductCommand> parse_create(const boost::json::object& payload) {
  CreateProductCommand cmd;
  Product& p = cmd.product;
  for (auto [key, field] : {std::pair{"product_id", &p.product_id},
                            std::pair{"seller_id", &p.seller_id}, std::pair{"name", &p.name},
                            std::pair{"currency", &p.currency},
                            std::pair{"category", &p.category}}) {
    auto value = required_string(payload, key);
    if (!value) return value.error();
    *field = std::move(value).value();
  }
  p.description = optional_string(payload, "description").value_or("");
  for (auto [key, field] :
       {std::pair{"price", &p.price}, std::pair{"initial_stock", &cmd.initial_stock}}) {
    const auto* v = payload.if_contains(key);
    if (v == nullptr) return Error{"invalid", std::string("missing field ") + key};
    auto n = integer(*v, key);
    if (!n) return n.error();
    *field = n.value();
  }
  if (payload.contains("actor_id") || payload.contains("actor_role")) {
    const auto role_text = optional_string(payload, "actor_role").value_or("seller");
    const auto role = parse_role(role_text);
    if (!role) return Error{"invalid", "unknown actor_role " + role_text};
    cmd.actor = Actor{optional_string(payload, "actor_id").value_or(p.seller_id), *role};
  } else {
    cmd.actor = Actor{p.seller_id, Role::seller};
  }
  return cmd;
}

events::Result<UpdateProductCommand> parse_update(const boost::json::object& payload) {
  UpdateProductCommand cmd;
  auto id = required_string(payload, "product_id");
  if (!id) return id.error();
  cmd.product_id = std::move(id).value();
  auto actor = actor_of(payload);
  if (!actor) return actor.error();
  cmd.actor = std::move(actor).value();
  cmd.name = optional_string(payload, "name");
  cmd.description = optional_string(payload, "description");
  cmd.category = optional_string(payload, "category");
  if (const auto* v = payload.if_contains("price")) {
    auto n = integer(*v, "price");
    if (!n) return n.error();
    cmd.price = n.value();
  }
  return cmd;
}

events::Result<DeleteProductCommand> parse_delete(const boost::json::object& payload) {
  DeleteProductCommand cmd;
  auto id = required_string(payload, "product_id");
  if (!id) return id.error();
  cmd.product_id = std::move(id).value();
  auto actor = actor_of(payload);
  if (!actor) return actor.error();
  cmd.actor = std::move(actor).value();
  return cmd;
}

void apply_changes(Product& p, const UpdateProductCommand& cmd) {
  if (cmd.name) p.name = *cmd.name;
  if (cmd.description) p.description = *cmd.description;
  if (cmd.price) p.price = *cmd.price;
  if (cmd.category) p.category = *cmd.category;
}

}  // namespace bazaar::catalog
