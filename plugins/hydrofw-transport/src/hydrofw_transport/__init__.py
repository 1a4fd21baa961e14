"""hydrofw_transport: SIM921 and Quantum Design MultiVu R(T) readers and Tc extraction.

Registered through the ``hydrofw`` entry point group (:mod:`hydrofw_transport.plugin`):
readers ``sim921`` and ``ppms`` (table ``transport``), processor ``transport.tc`` (table
``tc``). Units: K, ohm, s, A, Hz.
"""

__version__ = "0.1.0"
