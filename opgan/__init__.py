"""opgan: StyleGAN2 with an overparameterized (k-row) latent space, its training and inversion.

Reproduces *Overparameterization Improves StyleGAN Inversion* (Poirier-Ginter et al., arXiv 2205.06304).
"""

__version__ = "0.1.0"
