package io.dermcap.it.service;

import io.dermcap.model.Caption;
import io.dermcap.model.Captioner;
import io.dermcap.model.GenerationSettings;
import io.dermcap.model.InvalidSettingsException;
import io.dermcap.model.ModelException;
import io.dermcap.model.ModelInfo;

import java.util.List;

/** The real engine behind a test's decorator: everything delegated; a test overrides what it changes. */
public abstract class DelegatingCaptioner implements Captioner {

    protected final Captioner engine;

    protected DelegatingCaptioner(Captioner engine) {
        this.engine = engine;
    }

    @Override
    public ModelInfo info() {
        return engine.info();
    }

    @Override
    public GenerationSettings settingsFor(Overrides overrides) throws InvalidSettingsException {
        return engine.settingsFor(overrides);
    }

    @Override
    public List<Caption> caption(List<Request> batch) throws ModelException {
        return engine.caption(batch);
    }

    @Override
    public void close() {
        engine.close();
    }
}
