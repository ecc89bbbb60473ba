package io.dermcap.model;

import java.util.List;

/**
 * A captioner that hands every call to another: the base of decorators that change one thing
 * (the benchmark keeps each batch's timings, the fault tests fail chosen batches).
 */
public abstract class ForwardingCaptioner implements Captioner {

    protected final Captioner delegate;

    protected ForwardingCaptioner(Captioner delegate) {
        this.delegate = delegate;
    }

    @Override
    public ModelInfo info() {
        return delegate.info();
    }

    @Override
    public GenerationSettings settingsFor(Overrides overrides) throws InvalidSettingsException {
        return delegate.settingsFor(overrides);
    }

    @Override
    public List<Caption> caption(List<Request> batch) throws ModelException {
        return delegate.caption(batch);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
