// The link between a Sequential and the functional graph it was called in: through it the
// network reads and sets its layers' trainability there (its weights follow SharedValues), and
// on a device backend finds the graph's device copy of its weights.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

namespace latent::detail {

// A Sequential called inside a functional model (graph/functional.hpp) keeps its weights and
// its layers' trainability in that model's graph, so that both train the same weights and a
// base frozen through either is frozen in both (Keras: they are the same layer objects).
class graph_membership {
public:
    virtual ~graph_membership() = default;
    virtual bool trainable(std::size_t layer) = 0;
    virtual void set_trainable(std::size_t layer, bool on) = 0;
};
// On a device backend the network also computes with the graph's device copy of its weights,
// on the graph's context (its stream), so that it and the graph's models read and train one
// set of weights in order. Context is the backend's per-model context type.
template <class Context>
class device_graph_membership {
public:
    virtual ~device_graph_membership() = default;
    // The network's first weight in the graph's device copy, current with the host's values;
    // `will_change`: the caller writes them (training, BatchNorm's moving statistics).
    virtual float* device_params(bool will_change) = 0;
    virtual Context& context() = 0;
    // The device's newer values back to the graph's host arena; a change made there.
    virtual void sync_host() = 0;
    virtual void host_changed() noexcept = 0;
};
// Holds that link; a copy of a Sequential is a new network of its own, so copies drop it.
class graph_link {
public:
    graph_link() = default;
    graph_link(const graph_link&) noexcept {}
    graph_link(graph_link&&) noexcept = default;
    graph_link& operator=(const graph_link& other) noexcept {
        if (this != &other) link_.reset();
        return *this;
    }
    graph_link& operator=(graph_link&&) noexcept = default;
    ~graph_link() = default;
    graph_membership* get() const noexcept { return link_.get(); }
    void reset(std::shared_ptr<graph_membership> link) noexcept { link_ = std::move(link); }

private:
    std::shared_ptr<graph_membership> link_;
};
}  // namespace latent::detail
